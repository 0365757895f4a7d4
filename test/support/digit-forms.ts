// Card numbers as customers type them: other digit forms than ASCII. Tests of the scrubber build
// hostile text with them and read it back with `flatDigits`, which is independent of the scrubber.

/** Code points of the digit zero in ASCII, full-width, Arabic-Indic, Devanagari and mathematical bold. */
export const DIGIT_ZEROS = [0x30, 0xff10, 0x660, 0x966, 0x1d7ce];

/** Every decimal digit of those forms as ASCII, everything but letters and digits removed. */
export const flatDigits = (text: string) =>
  [...text]
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      const zero = DIGIT_ZEROS.find((z) => cp >= z && cp < z + 10);
      return zero === undefined ? ch : String(cp - zero);
    })
    .join('')
    .replace(/[^\p{L}\p{Nd}]/gu, '');
