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

/** Number of avatar colours (stylesheet classes `avatar-0` … `avatar-5`). */
export const AVATAR_COLOURS = 6;

/**
 * Initials for an avatar: the first letter (or digit) of the first and of the last word of `name` that
 * has one, upper case; one letter for a one-word name. Letters are whole graphemes ("Łukasz Ó’Brien" →
 * "ŁÓ"); marks and symbols before a letter are skipped (`"Hax"` → "H"). A name without any letter gives
 * its first grapheme.
 */
export function initialsOf(name: string): string {
  const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
  const graphemes = (text: string) => Array.from(segmenter.segment(text), (s) => s.segment);
  const firstLetter = (word: string) => graphemes(word).find((g) => /^[\p{L}\p{N}]/u.test(g));
  const letters = name
    .trim()
    .split(/\s+/)
    .map(firstLetter)
    .filter((letter): letter is string => letter !== undefined);
  if (letters.length === 0) return graphemes(name.trim())[0] ?? '';
  const picked = letters.length > 1 ? [letters[0], letters[letters.length - 1]] : letters;
  return picked.join('').toUpperCase();
}

/** A team member as the People page shows them. */
export interface TeamCard extends TeamMember {
  initials: string;
  /** Avatar colour, 0 to {@link AVATAR_COLOURS} − 1: the member's position in the file, cycling. */
  colour: number;
}

/** The People page's card of each member, in file order (neighbours never share a colour). */
export function teamCards(members: readonly TeamMember[]): TeamCard[] {
  return members.map((m, i) => ({ ...m, initials: initialsOf(m.name), colour: i % AVATAR_COLOURS }));
}
