/**
 * Feedback from the cluster: the model-service pods of the Helm chart (ops/helm/restaurant-sentiment)
 * write it to FEEDBACK_DIR (`/var/lib/model-service/feedback`), a volume named `feedback` that is the
 * PersistentVolumeClaim `model-service-feedback` shared by every pod (modelService.feedback.persistence,
 * the default) or an emptyDir per pod. The pods carry the label `app=model-service` and run the container
 * `model-service`.
 *
 * With kubectl (on PATH, or the path given): `kubectl get pods -l <selector> -o json` lists the pods; of
 * the Running ones, ONE pod per claim is copied (all pods on a shared claim see the same files), and every
 * pod whose feedback volume is not a claim; `kubectl cp <ns>/<pod>:<FEEDBACK_DIR> <temp> -c <container>`
 * copies the folder (kubectl runs `tar` in the container, which the node:20-bookworm-slim image has). If a
 * copy fails (the pod went away), the next Running pod on the same claim is tried.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { readFolderSource, type FeedbackSource } from './collect.js';

/** FEEDBACK_DIR when the pod spec does not set it (the model-service image's default). */
export const DEFAULT_FEEDBACK_DIR = '/var/lib/model-service/feedback';

/** Where kubectl finds the chart's model-service pods. */
export interface ClusterOptions {
  /** The kubectl executable (a path, or a name looked up on PATH). */
  kubectl: string;
  /** Namespace; undefined: kubectl's current namespace. */
  namespace?: string;
  /** kubeconfig context; undefined: the current context. */
  context?: string;
  /** Label selector of the model-service pods (the chart: `app=model-service`). */
  selector: string;
  /** The container that writes feedback (the chart: `model-service`). */
  container: string;
  /** Environment of kubectl (KUBECONFIG etc.); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Longest a `kubectl get pods` may take (ms). */
export const LIST_TIMEOUT_MS = 60_000;
/** Longest one `kubectl cp` may take (ms). */
export const COPY_TIMEOUT_MS = 10 * 60_000;

/** The part of a Pod object this module reads. */
interface Pod {
  metadata?: { name?: string; namespace?: string };
  status?: { phase?: string };
  spec?: {
    containers?: {
      name?: string;
      env?: { name?: string; value?: string }[];
      volumeMounts?: { name?: string; mountPath?: string }[];
    }[];
    volumes?: { name?: string; persistentVolumeClaim?: { claimName?: string } }[];
  };
}

/** A Running pod to copy feedback from. */
export interface FeedbackPod {
  namespace: string;
  name: string;
  /** FEEDBACK_DIR of its container. */
  dir: string;
  /** The PersistentVolumeClaim mounted at `dir`, or null (emptyDir or no volume: the pod's own files). */
  claim: string | null;
}

/** The pods {@link findFeedbackPods} found. */
export interface PodListing {
  /** Pods matching the selector, in any phase. */
  matched: number;
  /** The Running ones, sorted by namespace then name. */
  running: FeedbackPod[];
}

/** Last lines of a command's stderr, for error messages. */
function tail(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.slice(-3).join(' / ');
}

/**
 * Runs kubectl; resolves with stdout.
 * @throws PipelineError when kubectl is missing, exits non-zero (with its last stderr lines), or times out.
 */
function kubectl(options: ClusterOptions, args: string[], timeoutMs: number): Promise<string> {
  const global = options.context ? ['--context', options.context] : [];
  return new Promise((resolve, reject) => {
    execFile(
      options.kubectl,
      [...global, ...args],
      { env: options.env ?? process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.code === 'ENOENT') {
          return reject(
            new PipelineError(
              `kubectl not found ("${options.kubectl}"): install kubectl or pass --kubectl <path> (or set KUBECTL)`,
            ),
          );
        }
        if (e.killed) {
          return reject(new PipelineError(`kubectl ${args[0]} timed out after ${timeoutMs / 1000} s`));
        }
        reject(
          new PipelineError(
            `kubectl ${args.join(' ')} failed (exit ${e.code}): ${tail(stderr) || 'no output'}`,
          ),
        );
      },
    );
  });
}

/** The FEEDBACK_DIR and the claim behind it of one pod's container. */
function feedbackPod(pod: Pod, container: string): FeedbackPod | null {
  const name = pod.metadata?.name;
  const namespace = pod.metadata?.namespace;
  if (!name || !namespace) return null;
  const spec = pod.spec?.containers?.find((c) => c.name === container);
  if (!spec) return null;
  const dir = spec.env?.find((e) => e.name === 'FEEDBACK_DIR')?.value || DEFAULT_FEEDBACK_DIR;
  const mount = spec.volumeMounts?.find((m) => m.mountPath?.replace(/\/+$/, '') === dir.replace(/\/+$/, ''));
  const volume = mount && pod.spec?.volumes?.find((v) => v.name === mount.name);
  return { namespace, name, dir, claim: volume?.persistentVolumeClaim?.claimName ?? null };
}

/**
 * Lists the model-service pods and, for each, its FEEDBACK_DIR and claim.
 * @throws PipelineError when kubectl fails or prints something other than a pod list, or when a Running
 *   pod has no container named `options.container`.
 */
export async function findFeedbackPods(options: ClusterOptions): Promise<PodListing> {
  const namespace = options.namespace ? ['--namespace', options.namespace] : [];
  const out = await kubectl(
    options,
    ['get', 'pods', ...namespace, '--selector', options.selector, '--output', 'json'],
    LIST_TIMEOUT_MS,
  );
  let items: Pod[];
  try {
    const list = JSON.parse(out) as { items?: unknown };
    if (!Array.isArray(list.items)) throw new Error('no items');
    items = list.items as Pod[];
  } catch {
    throw new PipelineError('kubectl get pods did not print a JSON pod list');
  }
  const running: FeedbackPod[] = [];
  for (const pod of items.filter((p) => p.status?.phase === 'Running')) {
    const found = feedbackPod(pod, options.container);
    if (!found) {
      throw new PipelineError(
        `pod ${pod.metadata?.namespace}/${pod.metadata?.name} has no container "${options.container}" (set --container)`,
      );
    }
    running.push(found);
  }
  running.sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1));
  return { matched: items.length, running };
}

/**
 * The pods to copy from: per claim (namespace + claim name) all Running pods that mount it, in name order
 * (the first is copied, the others are fallbacks); each pod without a claim alone.
 */
export function copyGroups(pods: readonly FeedbackPod[]): FeedbackPod[][] {
  const groups = new Map<string, FeedbackPod[]>();
  for (const pod of pods) {
    const key =
      pod.claim === null ? `pod ${pod.namespace}/${pod.name}` : `claim ${pod.namespace}/${pod.claim}`;
    groups.set(key, [...(groups.get(key) ?? []), pod]);
  }
  return [...groups.values()];
}

/** True when `p` is a folder. */
async function isFolder(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * Reads what `kubectl cp` wrote to `dest`: the folder's contents, or (some kubectl versions) the folder
 * nested as `dest/<basename>`; nothing at all when the pod's folder was empty.
 */
async function readCopy(dest: string, basename: string): Promise<FeedbackSource> {
  if (!(await isFolder(dest))) return { label: dest, files: [] };
  const copied = await readFolderSource(dest);
  const nested = path.join(dest, basename);
  if (copied.files.length === 0 && (await isFolder(nested))) return readFolderSource(nested);
  return copied;
}

/** What {@link readClusterSources} read. */
export interface ClusterRead {
  sources: FeedbackSource[];
  /** Pods matching the selector / Running / copied from. */
  pods: { matched: number; running: number; copied: number };
}

/**
 * Copies the feedback folder of the chart's model-service pods (one per claim, see the module doc) into a
 * temporary folder and reads it; the copies are deleted afterwards.
 * @throws PipelineError when kubectl fails, no pod is Running, or every pod of a claim fails to copy.
 */
export async function readClusterSources(options: ClusterOptions): Promise<ClusterRead> {
  const listing = await findFeedbackPods(options);
  if (listing.running.length === 0) {
    const where = options.namespace ? `namespace ${options.namespace}` : "kubectl's current namespace";
    throw new PipelineError(
      `no Running pod matches --selector ${options.selector} in ${where} (${listing.matched} in other phases)`,
    );
  }
  const temp = await mkdtemp(path.join(os.tmpdir(), 'feedback-collect-'));
  try {
    const sources: FeedbackSource[] = [];
    for (const [g, group] of copyGroups(listing.running).entries()) {
      let lastError: unknown;
      let source: FeedbackSource | null = null;
      for (const [i, pod] of group.entries()) {
        const dest = path.join(temp, `${g}-${i}`);
        try {
          await kubectl(
            options,
            ['cp', `${pod.namespace}/${pod.name}:${pod.dir}`, dest, '--container', options.container],
            COPY_TIMEOUT_MS,
          );
          const copied = await readCopy(dest, path.posix.basename(pod.dir));
          const claim = pod.claim === null ? 'own volume' : `claim ${pod.claim}`;
          source = { label: `pod ${pod.namespace}/${pod.name} (${claim})`, files: copied.files };
          break;
        } catch (error) {
          lastError = error;
        }
      }
      if (!source) throw lastError;
      sources.push(source);
    }
    return {
      sources,
      pods: { matched: listing.matched, running: listing.running.length, copied: sources.length },
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
