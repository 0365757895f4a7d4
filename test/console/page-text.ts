// Reading the console's pages in tests: their escaped text back as typed.

/** A page's text unescaped (the console's escapeHtml: & < > " ' ` =). */
export const unescape = (v: string) =>
  v.replace(
    /&(amp|lt|gt|quot|#39|#96|#61);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', '#61': '=' })[e]!,
  );

/** What a textarea of the page holds, unescaped; undefined when there is no such box. */
export const box = (body: string, id: string) => {
  const m = new RegExp(`<textarea name="[a-z]+" id="${id}"[^>]*>([^<]*)</textarea`).exec(body);
  return m ? unescape(m[1]!) : undefined;
};

/** The page's notice, unescaped ('' when none). */
export const notice = (body: string) => unescape(/<p class="notice" id="notice">([^<]*)<\/p>/.exec(body)?.[1] ?? '');
