// Which suspected breaches list a card: Leakguard's own compromise events (breach discovery's,
// issuer `leakguard`) whose merchant the card used. A failed step-up such a suspicion asked for is
// no evidence against its merchant (recorder.ts, cpp.ts notEvidenceFor).
import { CPP_ISSUER, decodeEntry, entrySlot, type CompromiseEvent, type WatchlistStore } from '../core/watchlist.ts';

/** The merchants whose live suspected breach lists the card (its fingerprint under the primary key, as the scan lists it). */
export async function suspicionsListing(store: WatchlistStore, fingerprint: string): Promise<string[]> {
  const [raw] = await store.getEntries([entrySlot(fingerprint)]);
  const entry = raw ? decodeEntry(raw) : null;
  if (!entry) return [];
  const events = await Promise.all(entry.eventSeqs.map((seq) => store.getEvent(seq)));
  const merchants = events.flatMap((e) => {
    const merchantId = e && e.issuerId === CPP_ISSUER && e.status !== 'retracted' ? suspectedMerchant(e) : undefined;
    return merchantId ? [merchantId] : [];
  });
  return [...new Set(merchants)];
}

/** The merchant a suspected event names: its evidence's, else its external id's (`cpp:<merchant>` or `cpp:<merchant>:<n>`). */
function suspectedMerchant(event: CompromiseEvent): string | undefined {
  if (event.evidence?.merchantId) return event.evidence.merchantId;
  const m = /^cpp:(.+?)(?::\d+)?$/.exec(event.externalId ?? '');
  return m?.[1];
}
