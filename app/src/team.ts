/** The team cards of the People page, from a JSON file (path in TEAM_FILE). */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const member = z.object({
  /** URL-safe id used in /click/:member and as the metric label. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'must be lowercase letters, digits and dashes (≤ 41)'),
  name: z.string().min(1).max(100),
  role: z.string().min(1).max(100),
  profileUrl: z
    .string()
    .url()
    .refine((u) => /^https?:/.test(u), 'must be http(s)'),
  bio: z.string().max(300).optional(),
});
const team = z.array(member).min(1).max(50);

/** One team member. */
export type TeamMember = z.infer<typeof member>;

/**
 * Reads and validates the team file.
 * @throws Error naming the file and the invalid field, or duplicate ids.
 */
export async function loadTeam(file: string): Promise<TeamMember[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the team file: ${(error as Error).message}`);
  }
  const parsed = team.safeParse(data);
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'team'}: ${i.message}`).join('; ')}`,
    );
  }
  const ids = parsed.data.map((m) => m.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`${file}: duplicate member id "${duplicate}"`);
  return parsed.data;
}
