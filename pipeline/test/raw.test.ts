import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { downloadTsv, parseRecords, parseTsv, readPackageDataset, sha256Hex } from '../src/data/raw.js';
import { PipelineError } from '../src/errors.js';

const tsv = (...lines: string[]) => Buffer.from(['Review\tLiked', ...lines].join('\n') + '\n');

describe('parseTsv', () => {
  it('reads a valid historic dump, with CRLF and a BOM', () => {
    const data = Buffer.from(
      '\uFEFFReview\tLiked\r\nWow... Loved this place.\t1\r\nCrust is not good.\t0\r\n',
    );
    expect(parseTsv(data, 'dump.tsv', 'fail')).toEqual({
      file: 'dump.tsv',
      sha256: sha256Hex(data),
      rows: [
        { text: 'Wow... Loved this place.', label: 1, row: 2 },
        { text: 'Crust is not good.', label: 0, row: 3 },
      ],
      invalid: { wrong_columns: 0, invalid_label: 0, empty_text: 0, invalid_utf8: 0 },
    });
  });

  it('stops on wrong columns in the header, naming the file and line', () => {
    expect(() => parseTsv(Buffer.from('Text\tLabel\nx\t1\n'), 'dump.tsv', 'fail')).toThrow(
      'dump.tsv: line 1: wrong columns: expected header "Review\\tLiked", got "Text\\tLabel"',
    );
  });

  it.each([
    [tsv('good\t1', 'bad food\t2'), 'dump.tsv: line 3: label must be 0 or 1 (got "2")'],
    [tsv('good\t1', '   \t0'), 'dump.tsv: line 3: empty review text'],
    [tsv('good\t1', 'a\tb\t1'), 'dump.tsv: line 3: wrong number of columns (expected 2, got 3)'],
    [
      Buffer.concat([tsv('good\t1'), Buffer.from([0x62, 0xff, 0xfe, 0x09, 0x31, 0x0a])]),
      'dump.tsv: line 3: invalid UTF-8',
    ],
  ])('stops on a bad row with a message naming it (%#)', (data, message) => {
    expect(() => parseTsv(data, 'dump.tsv', 'fail')).toThrow(PipelineError);
    expect(() => parseTsv(data, 'dump.tsv', 'fail')).toThrow(message);
  });

  it('drops and counts bad rows when the policy says so', () => {
    const data = Buffer.concat([
      tsv('good\t1', 'bad food\t2', '   \t0', 'a\tb\t1'),
      Buffer.from([0x62, 0xff, 0x09, 0x31, 0x0a]),
      Buffer.from('fine\t0\n'),
    ]);
    const result = parseTsv(data, 'dump.tsv', 'drop');
    expect(result.rows).toEqual([
      { text: 'good', label: 1, row: 2 },
      { text: 'fine', label: 0, row: 7 },
    ]);
    expect(result.invalid).toEqual({ wrong_columns: 1, invalid_label: 1, empty_text: 1, invalid_utf8: 1 });
  });

  it('rejects a file with no data rows', () => {
    expect(() => parseTsv(Buffer.from('Review\tLiked\n'), 'dump.tsv', 'fail')).toThrow(
      'dump.tsv: no data rows',
    );
  });
});

describe('parseRecords', () => {
  it('validates {text, class} records', () => {
    expect(() =>
      parseRecords(
        [
          { text: 'ok', class: 1 },
          { text: 'x', class: null },
        ],
        'f.json',
        'h',
        'fail',
      ),
    ).toThrow('f.json: record 2: label must be 0 or 1 (got null)');
    expect(() => parseRecords([{ text: 'ok' }], 'f.json', 'h', 'fail')).toThrow(
      'f.json: record 1: wrong number of columns (expected fields text and class)',
    );
    expect(() => parseRecords({}, 'f.json', 'h', 'fail')).toThrow('expected a JSON array');
  });
});

describe('readPackageDataset', () => {
  it('reads the 1000 pinned Yelp records', async () => {
    const yelp = await readPackageDataset('yelp');
    expect(yelp.rows).toHaveLength(1000);
    expect(yelp.rows[0]).toEqual({ text: 'Wow... Loved this place.', label: 1, row: 1 });
    expect(yelp.rows.filter((r) => r.label === 1)).toHaveLength(500);
    expect(yelp.sha256).toBe('9f3f47983f21eeb819380767b74bfa648eca208f156241111454b3e122773ff7');
  });
});

describe('downloadTsv', () => {
  let server: Server;
  let base: string;
  const body = tsv('Great pizza\t1', 'Cold fries\t0');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/dump.tsv') res.end(body);
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads and parses when the sha256 matches', async () => {
    const result = await downloadTsv(`${base}/dump.tsv`, sha256Hex(body), 'fail');
    expect(result.rows.map((r) => r.text)).toEqual(['Great pizza', 'Cold fries']);
  });

  it('refuses a sha256 mismatch and HTTP errors', async () => {
    await expect(downloadTsv(`${base}/dump.tsv`, '0'.repeat(64), 'fail')).rejects.toThrow(
      `${base}/dump.tsv: sha256 ${sha256Hex(body)} differs from data.sha256 ${'0'.repeat(64)}`,
    );
    await expect(downloadTsv(`${base}/missing.tsv`, '0'.repeat(64), 'fail')).rejects.toThrow(
      `${base}/missing.tsv: download failed: HTTP 404`,
    );
  });
});
