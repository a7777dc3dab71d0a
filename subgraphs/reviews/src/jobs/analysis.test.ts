import { describe, expect, it } from 'vitest';
import { analyzeReview, MAX_KEYWORDS } from './analysis.ts';

describe('analyzeReview', () => {
  it('scores praise positive and complaints negative, within [-1, 1]', () => {
    const good = analyzeReview('Excellent blender, I love it. Great value and a wonderful motor.');
    const bad = analyzeReview('Terrible blender. It broke after a week, awful and useless.');
    expect(good.sentiment).toBeGreaterThan(0.1);
    expect(bad.sentiment).toBeLessThan(-0.1);
    for (const { sentiment } of [good, bad]) {
      expect(sentiment).toBeGreaterThanOrEqual(-1);
      expect(sentiment).toBeLessThanOrEqual(1);
    }
  });

  it('is neutral for text without scored words', () => {
    expect(analyzeReview('The box arrived on Tuesday.').sentiment).toBe(0);
  });

  it('keeps the most frequent non-stopwords, lower-cased, most frequent first', () => {
    const { keywords } = analyzeReview(
      'The battery is great. Battery life lasts days; the BATTERY charges fast, and the screen is sharp. Screen!',
    );
    expect(keywords[0]).toBe('battery');
    expect(keywords[1]).toBe('screen');
    expect(keywords).not.toContain('the');
    expect(keywords).not.toContain('is');
    expect(keywords.length).toBeLessThanOrEqual(MAX_KEYWORDS);
  });

  it('is deterministic', () => {
    const body = 'Solid build, decent price, slow shipping.';
    expect(analyzeReview(body)).toEqual(analyzeReview(body));
  });
});
