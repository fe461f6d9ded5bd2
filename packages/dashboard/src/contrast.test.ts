// WCAG AA for the dashboard's colours: every text/background pair the stylesheet uses reaches
// 4.5:1, and the focus ring and leader border reach 3:1 against what they sit on (WCAG 1.4.11).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const css = readFileSync(new URL('../public/assets/dashboard.css', import.meta.url), 'utf8');

/** WCAG 2.x minimum contrast for normal-size text. */
const TEXT_CONTRAST_MIN = 4.5;
/** WCAG 2.x minimum contrast for focus indicators and other non-text cues. */
const NON_TEXT_CONTRAST_MIN = 3;

/** Foreground/background custom-property pairs as the stylesheet combines them. */
const TEXT_PAIRS: readonly (readonly [string, string])[] = [
  ['--text', '--page'],
  ['--text', '--surface'],
  ['--text-muted', '--surface'],
  ['--text-muted', '--page'],
  ['--leader-text', '--leader-bg'],
  ['--follower-text', '--follower-bg'],
  ['--candidate-text', '--candidate-bg'],
  ['--up-text', '--up-bg'],
  ['--down-text', '--down-bg'],
  ['--danger-text', '--danger-bg'],
  ['--danger-text', '--danger-hover-bg'],
  ['--button-text', '--button-bg'],
  ['--button-text', '--follower-bg'],
  ['--text', '--down-bg'],
];
const NON_TEXT_PAIRS: readonly (readonly [string, string])[] = [
  ['--focus', '--surface'],
  ['--focus', '--page'],
  ['--leader-bg', '--surface'],
  ['--border', '--surface'],
  ['--edge', '--surface'],
];

function customProperties(source: string): Map<string, string> {
  const root = /:root\s*\{([^}]*)\}/.exec(source)?.[1] ?? '';
  const properties = new Map<string, string>();
  for (const match of root.matchAll(/(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)) {
    properties.set(match[1]!, match[2]!);
  }
  return properties;
}

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.040_45 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(foreground: string, background: string): number {
  const [lighter, darker] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [
    number,
    number,
  ];
  return (lighter + 0.05) / (darker + 0.05);
}

test('the contrast formula gives WCAG reference values', () => {
  assert.equal(contrastRatio('#000000', '#ffffff'), 21);
  assert.equal(contrastRatio('#777777', '#777777'), 1);
  // #767676 on white is the classic just-passing grey (4.54:1).
  assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01);
});

test('every text colour pair of the dashboard reaches WCAG AA (4.5:1)', () => {
  const colours = customProperties(css);
  for (const [foreground, background] of TEXT_PAIRS) {
    const ratio = contrastRatio(colours.get(foreground) ?? '', colours.get(background) ?? '');
    assert.ok(ratio >= TEXT_CONTRAST_MIN, `${foreground} on ${background}: ${ratio.toFixed(2)}:1`);
  }
});

test('focus ring, leader border and graph edges reach 3:1 against their background', () => {
  const colours = customProperties(css);
  for (const [foreground, background] of NON_TEXT_PAIRS) {
    const ratio = contrastRatio(colours.get(foreground) ?? '', colours.get(background) ?? '');
    assert.ok(ratio >= NON_TEXT_CONTRAST_MIN, `${foreground} on ${background}: ${ratio.toFixed(2)}:1`);
  }
});
