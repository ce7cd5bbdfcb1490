// Generates cron_fixture.txt, the table that tests/actors/tasks/cron_test.cpp checks
// actors/tasks/cron.cpp against: next firings computed by an established implementation, npm
// `cron-parser` 4.x (classic parseExpression API), always told tz 'UTC'.
//
// To rerun (needs node and the npm registry; the output is deterministic):
//   mkdir -p /tmp/cronfix && cd /tmp/cronfix && npm install cron-parser@4.9.0
//   NODE_PATH=/tmp/cronfix/node_modules node /path/to/repo/tests/actors/tasks/cron_fixture.mjs
// cron-parser is loaded with require() resolved from the current directory, then from this
// file's directory, then NODE_PATH, so running it from /tmp/cronfix works without NODE_PATH.
// The table is written next to this file; a summary goes to stderr.
//
// Format: '#' lines are comments; every other line is one case, tab-separated:
//   expression <TAB> start_ms <TAB> next1_ms,next2_ms,next3_ms,next4_ms,next5_ms
// where next1 is the first firing strictly after start_ms (unix milliseconds, UTC).
//
// Where cron-parser 4.9.0 disagrees with Vixie cron (and so with our parser) the expression is
// left out, checked by code below rather than trusted to the list:
//  - A day-of-week range ending in 7 always includes Sunday, even when the step skips 7:
//    `2-7/2` (and `2/2`, which means 2-7/2) gives Sun,Tue,Thu,Sat instead of Tue,Thu,Sat.
//  - Whether a day field is "restricted" (Vixie's OR rule) is decided by counting values, and
//    for day-of-month against the current month's length: `1-31`, `1-7` in day-of-week (which
//    includes 7) or `0-7` count as unrestricted, and `1-30` does so only in 30-day months.
//    Our rule: a day field is unrestricted when it has a `*` or `*/1` item. Both agree that
//    `*/2` is restricted (Vixie cron would call it unrestricted because it starts with `*`).
//  - A single month with a day of month it never has throws even when day-of-week is
//    restricted and the expression fires under the OR rule: `0 0 30 2 mon` fires on Mondays
//    in February for Vixie cron and for us.
//  - @annually and @midnight are not known to cron-parser 4; they are computed as @yearly and
//    @daily, which they mean.
// Expressions that can never fire (`0 0 30 2 *`) make cron-parser throw after its loop limit;
// our parser refuses them, which cron_test.cpp checks by hand.

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function load_cron_parser() {
  for (const base of [path.join(process.cwd(), 'noop.js'), fileURLToPath(import.meta.url)]) {
    try {
      const req = createRequire(base);
      return { parser: req('cron-parser'), version: req('cron-parser/package.json').version };
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error('cron-parser not found: run where node_modules/cron-parser is, or set NODE_PATH');
}

const { parser, version } = load_cron_parser();
if (!version.startsWith('4.')) throw new Error(`want cron-parser 4.x, found ${version}`);

const utc = (s) => Date.parse(s);
const fires_per_case = 5;

// -- expressions --

// Calendar edges: these get every start time below, not just a few.
const edge_expressions = [
  // macros
  '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly',
  // Feb 29 and leap years (2024, 2028 leap; 2100 not)
  '0 0 29 2 *', '0 12 29 feb *', '59 23 29 2 *', '0 0 28,29 2 *', '0 0 29 1-3 *', '0 0 29 * *',
  '30 6 29 2 *', '0 0 29 2,3 *', '0 0 1 3 *', '0 0 28 2 *', '0 0 29-31 2 *', '0 0 30,29 FEB *',
  '*/30 * 29 2 *', '0 0 29 2 1', '0 0 29 2 sun', '0 0 29 2 */1', '0 0 * 2 *', '0 0 28-29 2 *',
  // 31st of months
  '0 0 31 * *', '0 0 31 1-12/2 *', '0 0 30,31 * *', '0 0 31 */2 *', '0 0 31 4,5 *',
  '0 0 31 jan,feb,mar *', '59 23 31 * *', '0 0 31 7,8 *', '0 0 31 2-4 *', '0 0 31 aug-dec *',
  '0 0 30 * *', '0 12 30 1-3 *',
  // last and first minute of the year
  '59 23 31 12 *', '59 23 31 dec *', '59 23 * 12 *', '59 23 31 12 5', '59 * 31 12 *',
  '* 23 31 12 *', '0 0 1 1 *', '0 0 1 JAN *', '* * 31 12 *', '* * 1 1 *', '0 0 1 1 1',
];

const expressions = [
  // everyday schedules
  '* * * * *', '0 * * * *', '30 * * * *', '59 * * * *', '0 0 * * *', '0 12 * * *',
  '59 23 * * *', '15 14 1 * *', '0 22 * * 1-5', '23 0-20/2 * * *', '5 4 * * sun',
  '0 0,12 1 */2 *', '0 4 8-14 * *', '5 0 * 8 *', '0 9-17 * * 1-5', '*/15 9-17 * * mon-fri',
  '0 */6 * * *', '45 23 * * 6', '1 2 3 4 *', '0 0 1 * *', '0 0 * * 0', '0  0 *  * *',
  ' 5 4 * * * ', '0 0 * * * ', '00 09 * * *', '007 01 01 01 *',
  // minute steps, lists and ranges
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 23, 25, 29, 30, 31, 45, 59]
    .map((n) => `*/${n} * * * *`),
  '5/15 * * * *', '0/30 * * * *', '59/1 * * * *', '7/13 * * * *', '1/2 * * * *', '58/2 * * * *',
  '10-20 * * * *', '10-20/3 * * * *', '0-59/7 * * * *', '1-58/19 * * * *', '0-30/10,45 * * * *',
  '1,2,3,5,8,13,21,34,55 * * * *', '5,5,10 * * * *', '59,0 * * * *', '0-59 * * * *',
  '30-30 * * * *', '*/1 * * * *', '0-4,55-59 * * * *', '*/20,7 * * * *', '3-57/27 * * * *',
  // hour steps, lists and ranges
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 23].map((n) => `0 */${n} * * *`),
  '0 9-17 * * *', '30 0-23/5 * * *', '0 22-23,0-2 * * *', '15 3/4 * * *', '*/20 8,12,18 * * *',
  '0 23 * * *', '59 0 * * *', '*/10 23 * * *', '0 0-23 * * *', '30 23/1 * * *', '45 1-22/7 * * *',
  '15,45 */8 * * *', '0 12-12 * * *',
  // day of month
  ...[1, 2, 10, 15, 28].map((n) => `0 0 ${n} * *`),
  ...[2, 3, 5, 7, 10, 15, 16, 30, 31].map((n) => `0 0 */${n} * *`),
  '0 0 1-7 * *', '0 0 25-31 * *', '0 0 2/7 * *', '0 0 1,11,21,31 * *', '0 0 10-20/5 * *',
  '0 12 30,31 * *', '0 6 15-17,28 * *', '30 8 */1 * *', '0 0 1-15/2 * *', '0 0 27/2 * *',
  // month
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `0 0 1 ${n} *`),
  ...[2, 3, 4, 5, 6, 7, 11, 12].map((n) => `0 0 1 */${n} *`),
  '0 0 * */3 *', '0 0 1 jan *', '0 0 1 FEB *', '0 0 1 Mar-May *', '0 0 15 jun,JUL,aug *',
  '0 0 1 sep-dec/2 *', '0 0 1 jan/3 *', '0 0 1 OCT-Dec *', '0 0 1 dec *', '0 0 1 1,DEC *',
  '0 0 10 2/5 *', '0 0 5 feb-11 *', '0 0 * 7 *', '30 12 * jun-aug *', '0 0 1 1-12 *',
  // day of week, names in any case, 7 = Sunday
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `0 0 * * ${n}`),
  ...['sun', 'MON', 'Tue', 'wED', 'thu', 'FRI', 'Sat'].map((n) => `0 0 * * ${n}`),
  '0 0 * * mon-fri', '0 0 * * sat,sun', '0 0 * * 6,7', '0 0 * * 0,7', '0 0 * * 5-7',
  '0 0 * * fri-sat', '0 0 * * */2', '0 0 * * */3', '0 0 * * */7', '0 0 * * 1/2', '0 0 * * 0/3',
  '0 0 * * 1-7/3', '0 0 * * Mon', '0 0 * * tUe', '0 0 * * WED-fri', '30 6 * * 1,7',
  '0 0 * * 3-7', '0 18 * * sun-sat', '0 0 * * 0-6', '0 0 * * */1', '0 0 * * 1-5/2',
  '0 9 * * MON/2', '0 0 * * mon,wed,fri', '0 0 * * 7,1', '0 0 * * 6-7', '0 0 * * 0-3,5',
  // both day fields restricted: a day fires if either matches
  '0 0 1,15 * 5', '30 4 1,15 * 5', '0 0 13 * fri', '0 0 13 * 5', '0 12 */2 * 1', '0 0 1-7 * 1',
  '0 0 */3 * */2', '0 0 31 * 0', '0 0 1 * 7', '0 0 15 * 6,7', '0 0 28-31 * 5', '0 8 1 jan mon',
  '0 0 31 dec 1-5', '0 0 30 4,6 sat', '0 0 2/5 * 0/3', '0 0 10 * 0-6', '0 0 1 * 1-5',
  '0 0 */2 * */2', '0 0 15 2 3', '0 0 1-3 * 7', '0 0 20 * sun-tue', '0 0 28 * 0,7',
  // one day field unrestricted by `*/1`: both must match
  '0 0 */1 * 1', '0 0 15 * */1', '0 0 */1 2 5', '0 0 */1 * */1',
  // day-of-month with `*`, day-of-week restricted, or the other way round
  '0 0 * * 1', '0 0 */2 * *', '0 0 * * */2', '0 0 * jan 0', '0 0 * 2 5', '0 0 10-20 * *',
  // everything at once
  '*/5 8-18/2 1-10,20 jan-jun mon-fri', '0,30 */3 */5 */2 *', '15 10 * 3,6,9,12 fri',
  '0-5,50-55 22-23 28-31 * *', '*/7 */5 */3 */4 */2', '59 23 28-31 2 *',
];

// Expressions known to disagree; the checks below must drop every one of them (self-test).
const known_disagreements = [
  '0 0 * * 2-7/2', '0 0 * * 2/2', '0 0 * * 1-7/4', '0 0 1 * 1-7', '0 0 1 * 0-7',
  '0 0 1-31 * 1', '0 0 1-30 * 1', '0 0 30 2 mon', '0 0 31 4 1', '0 0 13 * 0,1,2,3,4,5,6,7',
];

// -- deterministic random expressions --

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20250301);
const pick = (n) => Math.floor(rand() * n);

const specs = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  {
    min: 1, max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function random_value(spec) {
  const v = spec.min + pick(spec.max - spec.min + 1);
  if (spec.names && v - spec.min < spec.names.length && rand() < 0.3) {
    const name = spec.names[v - spec.min];
    return { v, text: rand() < 0.5 ? name.toUpperCase() : name };
  }
  return { v, text: String(v) };
}

function random_item(spec) {
  const step = () => 1 + pick(Math.min(spec.max, 20));
  switch (pick(7)) {
    case 0: return '*';
    case 1: return `*/${step()}`;
    case 2: case 3: return random_value(spec).text;
    case 4: case 5: {
      const a = random_value(spec);
      const b = random_value(spec);
      const [lo, hi] = a.v <= b.v ? [a, b] : [b, a];
      return rand() < 0.5 ? `${lo.text}-${hi.text}` : `${lo.text}-${hi.text}/${step()}`;
    }
    default: return `${random_value(spec).text}/${step()}`;
  }
}

function random_field(spec, wildcard_bias) {
  if (rand() < wildcard_bias) return '*';
  const n = 1 + (rand() < 0.3 ? pick(3) : 0);
  return Array.from({ length: n }, () => random_item(spec)).join(',');
}

function random_expression() {
  const bias = [0.1, 0.2, 0.6, 0.6, 0.6];
  return specs.map((s, i) => random_field(s, bias[i])).join(' ');
}

// -- agreement checks --

const cp_macros = { '@annually': '@yearly', '@midnight': '@daily' };
function for_cron_parser(expr) {
  const t = expr.trim();
  if (!t.startsWith('@')) return expr;
  return cp_macros[t.toLowerCase()] ?? t.toLowerCase();
}
const macro_fields = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};
function fields_of(expr) {
  const t = expr.trim();
  return (t.startsWith('@') ? macro_fields[t.toLowerCase()] : t).split(/\s+/);
}

// Our rule for an unrestricted day field (see actors/tasks/cron.hpp).
const has_any_item = (field) => field.split(',').some((item) => item === '*' || item === '*/1');

// Vixie cron's day-of-week set: 0-7, `a/n` meaning a-7/n, 7 folded into 0.
function vixie_weekdays(field) {
  const names = specs[4].names;
  const value = (s) => (/^\d+$/.test(s) ? +s : names.indexOf(s.toLowerCase()));
  const out = new Set();
  for (const item of field.split(',')) {
    const [range, step_text] = item.split('/');
    const step = step_text === undefined ? 1 : +step_text;
    let lo, hi;
    if (range === '*') [lo, hi] = [0, 7];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(value);
    else [lo, hi] = step_text === undefined ? [value(range), value(range)] : [value(range), 7];
    for (let v = lo; v <= hi; v += step) out.add(v % 7);
  }
  return [...out].sort((a, b) => a - b);
}

const cp_days_in_month = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Why cron-parser's answer for `expr` cannot be used, or null when it can.
function disagreement(expr) {
  let interval;
  try {
    const options = { currentDate: new Date(utc('2025-01-01T00:00:00Z')), tz: 'UTC' };
    interval = parser.parseExpression(for_cron_parser(expr), options);
  } catch (e) {
    return `cron-parser refuses it: ${e.message}`;
  }
  const f = fields_of(expr);
  const cp_weekdays = [...new Set(interval.fields.dayOfWeek.map((d) => d % 7))]
    .sort((a, b) => a - b);
  if (cp_weekdays.join() !== vixie_weekdays(f[4]).join())
    return `day-of-week set ${cp_weekdays} differs from Vixie's ${vixie_weekdays(f[4])}`;
  const dow_any = interval.fields.dayOfWeek.length === 8;
  if (dow_any !== has_any_item(f[4])) return 'day-of-week restriction decided by count';
  for (const m of interval.fields.month) {
    const dom_any = interval.fields.dayOfMonth.length >= cp_days_in_month[m - 1];
    if (dom_any !== has_any_item(f[2])) return 'day-of-month restriction decided by count';
  }
  return null;
}

// -- start times --

const global_starts = [
  '2024-02-28T23:59:59.999Z', '2025-03-01T00:00:00.000Z', '2025-06-15T12:34:56.789Z',
  '2027-12-31T23:59:30.000Z', '2028-02-29T12:00:00.000Z', '2099-12-31T23:59:59.000Z',
  '2100-02-28T23:59:00.000Z', '2023-12-31T23:59:00.000Z', '1999-12-31T23:59:59.999Z',
  '2000-02-28T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2038-01-19T03:14:07.000Z',
  '2025-01-05T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1900-02-28T23:59:00.000Z',
  '2096-03-01T00:00:00.000Z', '2024-12-31T23:59:00.000Z', '2026-07-04T09:00:00.001Z',
].map(utc);
// After the first firing from some start: just before it, at it, and just after it.
const offsets_after_firing = [1, 999, 30_000, 59_999];

function firings(expr, start_ms) {
  // A Date, not a number: cron-parser takes a falsy currentDate (0, the epoch) as "now".
  const options = { currentDate: new Date(start_ms), tz: 'UTC' };
  const it = parser.parseExpression(for_cron_parser(expr), options);
  const out = [];
  let prev = start_ms;
  for (let k = 0; k < fires_per_case; k++) {
    const t = it.next().getTime();
    if (t <= prev || t % 60_000 !== 0)
      throw new Error(`odd firing ${t} for ${expr} from ${start_ms}`);
    out.push(t);
    prev = t;
  }
  return out;
}

// Edge expressions get every global start, the others two of them in turn.
function starts_for(index, edge) {
  const n = global_starts.length;
  if (edge) return [...global_starts];
  return [global_starts[index % n], global_starts[(index * 7 + 3) % n]];
}

// -- main --

const dropped = [];
for (const expr of known_disagreements)
  if (!disagreement(expr)) throw new Error(`expected a disagreement for '${expr}'`);

const cases = [];
const seen = new Set();
function add(expr, edge) {
  if (seen.has(expr)) return true;
  const why = disagreement(expr);
  if (why) {
    dropped.push(`${expr}: ${why}`);
    return false;
  }
  const index = seen.size;
  seen.add(expr);
  const starts = starts_for(index, edge);
  const first = firings(expr, global_starts[(index * 5 + 1) % global_starts.length])[0];
  starts.push(first - 1, first, first + offsets_after_firing[index % offsets_after_firing.length]);
  for (const s of starts) cases.push(`${expr}\t${s}\t${firings(expr, s).join(',')}`);
  return true;
}

for (const e of edge_expressions) add(e, true);
for (const e of expressions) add(e, false);
let random_added = 0;
for (let tries = 0; random_added < 160 && tries < 10_000; tries++) {
  const e = random_expression();
  if (seen.has(e)) continue;
  try {
    if (add(e, false)) random_added++;
  } catch (err) {
    // cron-parser gives up (loop limit) on some sparse random expressions; they are not used.
    dropped.push(`${e}: ${err.message}`);
  }
}

const header = [
  `# Generated by tests/actors/tasks/cron_fixture.mjs with cron-parser ${version} (tz UTC).`,
  '# Do not edit. expression <TAB> start_ms <TAB> the next five firings in unix ms',
];
writeFileSync(path.join(here, 'cron_fixture.txt'), [...header, ...cases].join('\n') + '\n');
process.stderr.write(`${seen.size} expressions (${random_added} random), ${cases.length} cases\n`);
process.stderr.write(`dropped ${dropped.length}:\n  ${dropped.join('\n  ')}\n`);
