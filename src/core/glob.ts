/**
 * Wildcard matching in O(pattern × text) steps at worst. A regular expression
 * such as `^a.*a.*a.*b$` backtracks exponentially in the number of stars, so a
 * stored tag or repository pattern could stall every request that checks it.
 *
 * The pattern is a list of elements, each a star (any run of text elements,
 * possibly empty) or a matcher of exactly one text element. When a matcher
 * fails, only the most recent star needs to take one element more: any
 * earlier star's choice can be absorbed by that later star.
 */
export function globMatch<P, T>(pattern: ArrayLike<P>, text: ArrayLike<T>, isStar: (p: P) => boolean, matchesOne: (p: P, t: T) => boolean): boolean {
  let p = 0;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const element = pattern[p];
    if (element !== undefined && isStar(element)) {
      starAt = p++;
      starText = t;
    } else if (element !== undefined && matchesOne(element, text[t] as T)) {
      p++;
      t++;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (p < pattern.length && isStar(pattern[p] as P)) p++;
  return p === pattern.length;
}

/**
 * A string glob compiled once: `*` is any run of characters and, when `anyOne`
 * is given, that character matches any one. Strings are compared by UTF-16
 * code unit, as a RegExp without the u flag would.
 */
export function stringGlob(pattern: string, anyOne?: string): (text: string) => boolean {
  const isStar = (c: string) => c === '*';
  const matchesOne = (c: string, ch: string) => c === ch || c === anyOne;
  return (text) => globMatch(pattern, text, isStar, matchesOne);
}
