/**
 * Tests that need a system tool (promtool, amtool, prometheus, checkov, SciPy) skip with a clear message
 * when it is missing on a developer's machine, and fail under CI=true, where .ci/run must have installed
 * it (the rule of the developers' guide). Shared by every workspace's tests.
 */

/**
 * Decides whether tests needing a tool run.
 * @param missing why the tool cannot be used (e.g. "/usr/bin/promtool not found"), or undefined/null when it can.
 * @param what the tests that need it, for the skip message (e.g. "the promtool tests").
 * @param install how to install it (e.g. "apt-get install prometheus"), for both messages.
 * @returns true when the tool is there (run the tests); false when they are to be skipped.
 * @throws Error when the tool is missing and CI=true.
 */
export function toolAvailable(missing: string | null | undefined, what: string, install: string): boolean {
  if (missing === undefined || missing === null) return true;
  if (process.env.CI === 'true') throw new Error(`${missing}: .ci/run must install it (${install})`);
  console.warn(`skipping ${what}: ${missing} (${install})`);
  return false;
}
