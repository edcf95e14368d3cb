/** The People page experiment (control / treatment), profile clicks and the review rate limit. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { initialsOf, loadTeam, teamCards, type TeamMember } from '../src/team.js';
import { EXAMPLE_TEAM_FILE, makeApp, metricValue, testId, type TestApp } from './support/app.js';
import { startFakeModelService, type FakeModelService } from './support/fake-model-service.js';

let fake: FakeModelService;
let control: TestApp;
let treatment: TestApp;
let team: TeamMember[];

beforeAll(async () => {
  fake = await startFakeModelService();
  control = await makeApp(fake.url, { variant: 'control' });
  treatment = await makeApp(fake.url, { variant: 'treatment' });
  team = await loadTeam(EXAMPLE_TEAM_FILE);
});
afterAll(() => fake.close());

const variants: ['control' | 'treatment', () => TestApp][] = [
  ['control', () => control],
  ['treatment', () => treatment],
];

describe('GET /people', () => {
  it('the example team has four members, each with a bio', () => {
    expect(team.map((m) => m.id)).toEqual([
      'ml-engineer',
      'backend-engineer',
      'platform-engineer',
      'product-designer',
    ]);
    expect(team.map((m) => [m.name, m.role])).toEqual([
      ['Amira Haddad', 'ML engineer'],
      ['Tomás Ferreira', 'Backend engineer'],
      ['Priya Nair', 'Platform engineer'],
      ['Jonas Berg', 'Product designer'],
    ]);
    for (const m of team) expect(m.bio?.length).toBeGreaterThan(40);
  });

  it.each(variants)('%s: one card per member, each linking to /click/<id>', async (variant, get) => {
    const res = await request(get().app).get('/people').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain(`<body data-variant="${variant}">`);
    expect(res.text).toContain('<a href="/people" aria-current="page">People</a>');
    expect(res.text.match(/data-testid="person-card"/g)).toHaveLength(team.length);
    const links = [...res.text.matchAll(/<a class="person-link" href="([^"]*)">/g)].map((m) => m[1]);
    expect(links).toEqual(team.map((m) => `/click/${m.id}`));
    const hidden = variant === 'treatment' ? '<span class="visually-hidden"> (opens profile)</span>' : '';
    const avatars = ['AH', 'TF', 'PN', 'JB'];
    team.forEach((member, i) => {
      // a heading per card whose link is the card's name; initials avatar; role; bio
      expect(res.text).toContain(
        `<h2 class="person-name"><a class="person-link" href="/click/${member.id}">${member.name}${hidden}</a></h2>`,
      );
      expect(res.text).toContain(`<span class="avatar avatar-${i}" aria-hidden="true">${avatars[i]}</span>`);
      expect(res.text).toContain(`<p class="person-role">${member.role}</p>`);
      expect(res.text).toContain(`<p class="person-bio">${member.bio}</p>`);
      // the page links to the click counter, never straight to the profile
      expect(res.text).not.toContain(member.profileUrl);
    });
    expect(res.text).toContain('<h1>The people behind it</h1>');
    expect(testId(res.text, 'model-version')).toBe('1.2.0');
  });

  it('treatment shows a profile icon on every card', async () => {
    const res = await request(treatment.app).get('/people').expect(200);
    expect(res.text.match(/<svg class="profile-icon"/g)).toHaveLength(team.length);
    expect(res.text.match(/<span class="visually-hidden"> \(opens profile\)<\/span>/g)).toHaveLength(
      team.length,
    );
  });

  it('control shows no profile icon', async () => {
    const res = await request(control.app).get('/people').expect(200);
    expect(res.text).not.toContain('profile-icon');
    expect(res.text).not.toContain('(opens profile)');
    expect(res.text.match(/<svg/g)).toHaveLength(1); // the logo only
  });

  it('counts a view under the variant of the instance', async () => {
    const c = await metricValue(control.metrics, 'people_page_views_total', { variant: 'control' });
    const tr = await metricValue(treatment.metrics, 'people_page_views_total', { variant: 'treatment' });
    await request(treatment.app).get('/people').expect(200);
    expect(await metricValue(treatment.metrics, 'people_page_views_total', { variant: 'treatment' })).toBe(
      tr + 1,
    );
    expect(await metricValue(treatment.metrics, 'people_page_views_total', { variant: 'control' })).toBe(0);
    expect(await metricValue(control.metrics, 'people_page_views_total', { variant: 'control' })).toBe(c);
    await request(control.app).get('/people').expect(200);
    expect(await metricValue(control.metrics, 'people_page_views_total', { variant: 'control' })).toBe(c + 1);
    expect(await metricValue(control.metrics, 'people_page_views_total', { variant: 'treatment' })).toBe(0);
  });

  it('renders while model-service is down', async () => {
    await fake.stop();
    try {
      const res = await request(control.app).get('/people').expect(200);
      expect(testId(res.text, 'model-version')).toBe('unavailable');
      expect(res.text.match(/data-testid="person-card"/g)).toHaveLength(team.length);
    } finally {
      await fake.start();
    }
  });
});

describe('GET /click/:member', () => {
  it.each(variants)(
    '%s: redirects (302) to every member profile and counts the click',
    async (variant, get) => {
      const { app, metrics } = get();
      for (const member of team) {
        const labels = { member: member.id, variant };
        const before = await metricValue(metrics, 'profile_clicks_total', labels);
        const res = await request(app).get(`/click/${member.id}`).expect(302);
        expect(res.headers.location).toBe(member.profileUrl);
        expect(await metricValue(metrics, 'profile_clicks_total', labels)).toBe(before + 1);
      }
      expect(await metricValue(metrics, 'profile_clicks_total')).toBeGreaterThanOrEqual(team.length);
      expect(
        await metricValue(metrics, 'profile_clicks_total', {
          variant: variant === 'control' ? 'treatment' : 'control',
        }),
      ).toBe(0);
    },
  );

  it.each(['nobody', 'ML-Engineer', '%3Cscript%3E'])(
    'answers an unknown member (%s) with a 404 page and creates no series for it',
    async (id) => {
      const clicks = await metricValue(control.metrics, 'profile_clicks_total');
      const res = await request(control.app).get(`/click/${id}`).expect(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toContain('<h1 id="problem-heading">Not found</h1>');
      expect(res.text).toContain('<p role="alert">There is no such team member.</p>');
      expect(res.text).not.toContain('<script>');
      expect(await metricValue(control.metrics, 'profile_clicks_total')).toBe(clicks);
      const exposition = (await request(control.app).get('/metrics').expect(200)).text;
      expect(exposition).not.toContain(`member="${decodeURIComponent(id)}"`);
      expect(exposition).not.toContain('member="nobody"');
    },
  );

  it('labels click requests by route template, not by member', async () => {
    await request(control.app).get('/click/nobody').expect(404);
    const exposition = (await request(control.app).get('/metrics').expect(200)).text;
    expect(exposition).toContain('http_requests_total{route="/click/:member",method="GET",status="404"');
    expect(exposition).not.toMatch(/route="\/click\/nobody"/);
  });
});

describe('rate limit on POST /predict', () => {
  it('answers the third review of a minute with a 429 page when the limit is 2', async () => {
    const limited = await makeApp(fake.url, { rateLimitPerMinute: 2 });
    const send = () => request(limited.app).post('/predict').type('form').send({ review: 'good food' });
    await send().expect(200);
    await send().expect(200);
    const res = await send();
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<h1 id="problem-heading">Too many reviews</h1>');
    expect(res.text).toContain(
      '<p role="alert">You have sent many reviews in a short time. Please wait a minute and try again.</p>',
    );
    expect(res.headers['ratelimit-policy']).toMatch(/^"2-in-1min"; q=2; w=60;/);
    expect(await metricValue(limited.metrics, 'reviews_submitted_total')).toBe(2);
    // the other pages are not limited
    await request(limited.app).get('/').expect(200);
    await request(limited.app).get('/people').expect(200);
  });

  it('does not trust X-Forwarded-For unless configured to (trustProxy false)', async () => {
    const limited = await makeApp(fake.url, { rateLimitPerMinute: 1 });
    const send = (ip: string) =>
      request(limited.app)
        .post('/predict')
        .set('x-forwarded-for', ip)
        .type('form')
        .send({ review: 'good food' });
    // express-rate-limit reports the unexpected header once (ERR_ERL_UNEXPECTED_X_FORWARDED_FOR)
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await send('10.0.0.1').expect(200);
      await send('10.0.0.2').expect(429);
      await send('10.0.0.3').expect(429);
    } finally {
      quiet.mockRestore();
    }
  });
});

describe('team cards', () => {
  it.each([
    ['Amira Haddad', 'AH'],
    ['Tomás Ferreira', 'TF'],
    ['Mei Lin Chen', 'MC'],
    ['  prince  ', 'P'],
    ['Łukasz Ó’Brien', 'ŁÓ'],
    ['élise dupont', 'ÉD'],
    ['Ｏｌａ Ｎｏｒｄ', 'ＯＮ'],
    ['👩\u200d🍳 Chef', 'C'],
    ['"Hax" <b>Eve</b>', 'HB'],
    ['R2 D2', 'RD'],
    ['42', '4'],
    ['🍕 🍝', '🍕'],
  ])('initials of "%s" are "%s"', (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });

  it('gives neighbouring cards different avatar colours, cycling through six', () => {
    const members = Array.from({ length: 8 }, (_, i) => ({
      id: `m${i}`,
      name: `Member ${i}`,
      role: 'r',
      profileUrl: 'https://example.org',
    }));
    expect(teamCards(members).map((c) => [c.initials, c.colour])).toEqual([
      ['M0', 0],
      ['M1', 1],
      ['M2', 2],
      ['M3', 3],
      ['M4', 4],
      ['M5', 5],
      ['M6', 0],
      ['M7', 1],
    ]);
  });

  it('escapes names and bios from the team file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'team-'));
    const file = path.join(dir, 'team.json');
    await writeFile(
      file,
      JSON.stringify([
        {
          id: 'x',
          name: '<b>Eve</b> "Hax"',
          role: 'R&D <i>lead</i>',
          bio: '<script>alert(1)</script>',
          profileUrl: 'https://example.org/x',
        },
      ]),
    );
    const app = await makeApp(fake.url, { teamFile: file });
    const res = await request(app.app).get('/people').expect(200);
    expect(res.text).toContain('>&lt;b&gt;Eve&lt;/b&gt; &quot;Hax&quot;</a></h2>');
    expect(res.text).toContain('<span class="avatar avatar-0" aria-hidden="true">BH</span>');
    expect(res.text).toContain('<p class="person-role">R&amp;D &lt;i&gt;lead&lt;/i&gt;</p>');
    expect(res.text).toContain('<p class="person-bio">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(res.text).not.toMatch(/<script|<b>|<i>/);
  });
});
