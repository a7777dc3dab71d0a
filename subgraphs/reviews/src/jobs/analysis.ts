// Review text analysis for the enrich-review job: sentiment from the AFINN-165 lexicon
// (`sentiment`) and keywords as the most frequent non-stopwords (`keyword-extractor`).
// Pure and deterministic: the same body always yields the same enrichment.
import keywordExtractor from 'keyword-extractor';
import Sentiment from 'sentiment';

const analyzer = new Sentiment();

/** Keywords kept per review. */
export const MAX_KEYWORDS = 5;

export interface ReviewAnalysis {
  /**
   * AFINN score per word, scaled from [-5, 5] to [-1, 1] and clamped: -1 very negative,
   * 0 neutral (or no scored word), 1 very positive.
   */
  sentiment: number;
  /** Up to MAX_KEYWORDS lower-case keywords, most frequent first (ties: first seen). */
  keywords: string[];
}

export function analyzeReview(body: string): ReviewAnalysis {
  const { comparative } = analyzer.analyze(body);
  const sentiment = Math.max(-1, Math.min(1, comparative / 5));
  const words = keywordExtractor.extract(body, {
    language: 'english',
    remove_digits: true,
    return_changed_case: true,
    remove_duplicates: false,
  });
  const counts = new Map<string, number>();
  for (const word of words) {
    // Letters only (apostrophes inside words allowed); drops punctuation left on tokens.
    const clean = word.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    if (clean.length < 3) continue;
    counts.set(clean, (counts.get(clean) ?? 0) + 1);
  }
  const keywords = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_KEYWORDS)
    .map(([word]) => word);
  return { sentiment: Math.round(sentiment * 1000) / 1000, keywords };
}
