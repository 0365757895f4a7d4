// A scan's budget over the days' labelled cards (labelDaysWithin, services/breach/history.ts): the
// days from the newest back while they fit, then the newest cards of the day that does not, ties
// at the cut left out whole; the window's first day, the scan's day and the labels' floor.
import { describe, expect, it } from 'vitest';
import { labelDaysWithin } from '../../services/breach/history.ts';
import { DAY } from '../support/cpp-world.ts';

/** Days of [card, earliest label that day] entries, by day number. */
function within(
  days: Record<number, [string, number][]>,
  maxCards: number,
  window: { since: number; until?: number; floor?: number },
) {
  const numbers = Object.keys(days)
    .map(Number)
    .sort((a, b) => a - b);
  return labelDaysWithin(
    { since: window.since, until: window.until ?? Infinity, floor: window.floor ?? -Infinity },
    numbers,
    async (day) => days[day]!,
    maxCards,
  );
}
const at = (day: number, hour: number) => day * DAY + hour * 3_600_000;

describe("a scan's budget over the labelled days", () => {
  const days = {
    8: [
      ['a', at(8, 1)],
      ['b', at(8, 2)],
      ['c', at(8, 3)],
    ] as [string, number][],
    9: [
      ['d', at(9, 1)],
      ['a', at(9, 5)],
    ] as [string, number][],
    10: [
      ['e', at(10, 1)],
      ['f', at(10, 1)],
      ['g', at(10, 2)],
    ] as [string, number][],
  };

  it('reads every day when all fit, in day order, a card at its oldest day', async () => {
    expect(await within(days, 7, { since: 0 })).toEqual({
      cards: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      coveredSince: 0,
      labelledCards: 7,
    });
    expect(await within({}, 5, { since: 0 })).toEqual({ cards: [], coveredSince: 0, labelledCards: 0 });
  });

  it('past the budget, the newest of the day that does not fit, from the oldest time kept', async () => {
    // Days 10 and 9 hold e, f, g, d, a (5); of day 8, a is held already, c is the newest of b and c.
    expect(await within(days, 6, { since: 0 })).toEqual({
      cards: ['a', 'c', 'd', 'e', 'f', 'g'],
      coveredSince: at(8, 3),
      labelledCards: 6,
    });
    // No room left: day 8 is not read at all.
    expect(await within(days, 5, { since: 0 })).toEqual({
      cards: ['d', 'a', 'e', 'f', 'g'],
      coveredSince: 9 * DAY,
      labelledCards: 5,
    });
  });

  it('leaves out whole the cards of a time that not all fit', async () => {
    // Day 10: g, then e and f at one time; room for two: g only, from just after e's and f's time.
    expect(await within(days, 2, { since: 0 })).toEqual({
      cards: ['g'],
      coveredSince: at(10, 1) + 1,
      labelledCards: 1,
    });
    // Room for one: g, the newest.
    expect(await within(days, 1, { since: 0 })).toEqual({ cards: ['g'], coveredSince: at(10, 2), labelledCards: 1 });
  });

  it("counts on the window's first day only the cards first labelled since it began, on the scan's day only those before it", async () => {
    // Since 02:30 on day 8: a and b began before it, c after; until 01:30 on day 10: e and f only.
    const window = { since: at(8, 2.5), until: at(10, 1.5) };
    expect(await within(days, 5, window)).toEqual({
      cards: ['a', 'c', 'd', 'e', 'f'],
      coveredSince: at(8, 2.5),
      labelledCards: 5,
    });
    // Room for four: days 10 and 9 fill it; of day 8 only c would count, and does not fit.
    expect(await within(days, 4, window)).toEqual({
      cards: ['d', 'a', 'e', 'f'],
      coveredSince: 9 * DAY,
      labelledCards: 4,
    });
  });

  it('reads the day the labels floor falls on whole or not at all', async () => {
    // The floor at 02:30 on day 8: the earliest label of a card that day may be one episodes ignore.
    const floor = at(8, 2.5);
    expect(await within(days, 6, { since: 0, floor })).toEqual({
      cards: ['d', 'a', 'e', 'f', 'g'],
      coveredSince: 9 * DAY,
      labelledCards: 5,
    });
    expect(await within(days, 7, { since: 0, floor })).toMatchObject({ coveredSince: 0, labelledCards: 7 });
  });
});
