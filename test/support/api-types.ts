// Generated from the API's OpenAPI document (/openapi.json) by openapi-typescript: do not edit.
// Regenerate with `npm run openapi:types`; test/http/openapi-types.test.ts checks it is current.

export interface paths {
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The process is up */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every dependency is reachable */
    get: operations['readiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/cpp/scan': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Scan for common points of purchase now
     * @description Tests, for the cards that turned fraudulent recently, which merchants they passed through before their first fraud more often than chance allows (docs/breach-discovery.md). A suspected merchant opens a compromise event of source leakguard-cpp and its exposed cards are listed on it: scoring steps them up.
     */
    post: operations['scanCommonPoints'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/model': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The model in force, and the outcome of the last reload (a refused file stays on disk) */
    get: operations['getModel'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/model/reload': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Re-read the model artifact now (it is also re-read when the file changes); scorings in flight finish on the model they started with */
    post: operations['reloadModel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/rates': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The rate table in force */
    get: operations['getRateTable'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/rates/reload': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Re-read the rate table file now (it is also re-read when it changes) */
    post: operations['reloadRateTable'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/ruleset': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The ruleset in force */
    get: operations['getRuleset'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/admin/ruleset/reload': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Re-read the ruleset file now (it is also re-read when it changes) */
    post: operations['reloadRuleset'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/cards': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Remove cards from your events, one event, or (admins) every event (reissued or closed cards)
     * @description By card number or by fingerprint. An issuer may remove only cards in its BIN ranges (by number) or cards its own events listed (by fingerprint), and takes them off its own events only: another issuer's listing stays. With `eventId`, off that event only. A card whose entry is left with no event leaves the watchlist; a card named twice counts once. 1 to 10,000 cards, in a body of up to 2 MiB (or LEAKGUARD_BODY_LIMIT_BYTES, if larger).
     */
    delete: operations['removeCards'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/cards/lookup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Whether cards are listed, and by which of your events (by card number or fingerprint)
     * @description Answers each card in the request's order: listed or not, the live events (open or closed; never retracted ones) that list it, what leaked, the masked card and its fingerprint under the current card key (what DELETE /v1/cards takes). An issuer sees only its own events: a card listed only by another issuer's events is `listed: false`, and the events of others are never counted nor named; for its own card numbers (looked up by number, in its BIN ranges) it also sees Leakguard's suspected breaches that list them once an analyst confirmed them (issuerId leakguard: which of its cards a breached merchant exposed, to reissue them; an unreviewed suspicion is not shown, since the cards it lists would name its merchant). An issuer may look up card numbers in its BIN ranges (others are `refused`, BIN_NOT_OWNED) and any fingerprint. An admin sees every event. During a card-key rotation a card number is looked up under both keys. A POST so that card numbers never sit in a URL; the answer never holds one.
     */
    post: operations['lookupCards'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/compromise-events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Compromise events with their statistics: oldest first, a page at a time
     * @description An issuer sees its own events, an admin every issuer's; `status` and `externalId` keep the events in that status or with that externalId. Pages: `limit` events at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.
     */
    get: operations['listCompromiseEvents'];
    put?: never;
    /**
     * Declare a compromise event (a breach and what leaked)
     * @description Idempotent by (issuer, externalId): the same externalId returns the existing event with 200; one declaring other dataElements, exposure times or confidence is 409 EVENT_CONFLICT (declare a change as a new event), as is the externalId of a retracted event (declare the breach again with another externalId).
     */
    post: operations['createCompromiseEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/compromise-events/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One compromise event with its statistics */
    get: operations['getCompromiseEvent'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Change an event's confidence or exposure end; its cards stay listed
     * @description An issuer's own event (or any, for an admin): `confidence` (a suspected breach confirmed, or the other way) and `exposureEnd` (not before exposureStart), which scoring uses at once (listed_confirmed, days_since_exposure_end) without listing the cards again. A retracted event: 409 EVENT_CONFLICT. An event Leakguard opened itself (issuer leakguard) is reviewed in the analysts' console, not here: 409.
     */
    patch: operations['changeCompromiseEvent'];
    trace?: never;
  };
  '/v1/compromise-events/{id}/cards': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Upload the cards an event exposed (text/csv or application/x-ndjson, one card per line)
     * @description CSV lines `pan[,expiry_month,expiry_year]` (an optional `pan,...` header; `;`, quoted fields, grouped digits and `MM/YY` as spreadsheets export them) or NDJSON lines `{"pan": "...", "expiryMonth": 1, "expiryYear": 2027}`. Streamed: parsed as it arrives, never written to disk. Valid lines are kept when others fail; a list none of whose first 1,000 lines (all, if fewer) gives a card is refused there, 400 UPLOAD_REFUSED naming the likely cause. Re-uploading the same list is idempotent.
     */
    post: operations['uploadCards'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/compromise-events/{id}/close': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Close an event: no more uploads; its cards stay listed
     * @description A retracted event: 409 EVENT_CONFLICT. An admin's close of an event Leakguard opened itself (issuer leakguard, source leakguard-cpp) is recorded in the audit log (action breach_status, actor api-key:<key id>, target event:<id>); while the audit log is not available (the case database not open yet) it is refused with 503 and the event is unchanged.
     */
    post: operations['closeCompromiseEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/compromise-events/{id}/retract': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Retract an event: its cards leave the watchlist unless another live event lists them
     * @description Final and idempotent: an event retracted already is answered 200 as it is, unchanged. An admin's retract of an event Leakguard opened itself (issuer leakguard, source leakguard-cpp) is recorded in the audit log (action breach_status, actor api-key:<key id>, target event:<id>); while the audit log is not available (the case database not open yet) it is refused with 503 and the event is unchanged.
     */
    post: operations['retractCompromiseEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/issuer/hits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Where your listed cards were tried: newest first, a page at a time
     * @description Hits on cards in your BIN ranges, newest recorded first, filtered by event, merchant, decision and `recordedAt` (`from`, `to`: when the hit was recorded, not the transaction's `at`) before the limit: `decision=approve` gives the leaked cards that got through, `merchantId` where a list's cards are being cashed out. Pages: `limit` hits at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`. A filter that matches rarely may answer a short page (even an empty one) with `has_more` true: a page examines at most 20,000 stored hits.
     */
    get: operations['listIssuerHits'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/issuer/suspected-events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Suspected breaches that exposed cards of your BIN ranges
     * @description Compromise events Leakguard opened itself (source leakguard-cpp) whose exposed cards include cards of your registered BIN ranges, with how many, oldest first. Dismissed events are left out. The suspected merchant (`merchantId`) is named once an analyst confirmed the event (`confidence: confirmed`); before that the event is listed without it. Pages: `limit` events at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`. Other query parameters are refused (400).
     */
    get: operations['listIssuerSuspectedEvents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/issuers/{issuerId}/bin-ranges': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An issuer's BIN ranges */
    get: operations['getBinRanges'];
    /**
     * Register an issuer's BIN ranges (replaces the previous list)
     * @description A BIN belongs to one issuer: a range sharing BINs with another issuer's (a 6-digit range covers each 8-digit one under it) is refused with 409 BIN_RANGE_CONFLICT and nothing changes.
     */
    put: operations['setBinRanges'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/score': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Score a card transaction at checkout
     * @description Returns a 0-100 risk score, a decision and the reasons for it. The card number is reduced to a keyed fingerprint, BIN and last 4 on arrival and never stored. The same transactionId with the same payload returns the stored response (stored 24 hours by default) and counts nothing again. The body may be up to 256 KiB (room for every maximum of the schema: 200 items with 200-character names, in UTF-8), or LEAKGUARD_BODY_LIMIT_BYTES if larger; 413 above.
     */
    post: operations['scoreTransaction'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/transactions/{transactionId}/outcome': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Report the outcome of a scored transaction
     * @description Declines and fraud chargebacks feed the per-card and per-entity counters; challenge_failed (the 3-D Secure step-up Leakguard asked for failed, was refused or abandoned) counts against the card (card_challenge_failures_*); a fraud chargeback also labels the transaction as fraud in the merchant's delayed windows (merchant_delayed_frauds_*). A chargeback whose reason code is a holder's dispute of a transaction they made (goods, service, processing) is kept but counted nowhere (the answer's chargeback field). Every outcome is kept for labels. chargeback_reversed (the merchant won its representment, or the issuer withdrew the chargeback) withdraws a fraud chargeback recorded before: everything it counted stops counting, for the card and every other entity, in the merchant's fraud labels and in backtests, as if it had not been reported, while both stay on the record; 409 OUTCOME_CONFLICT when the transaction has no fraud chargeback recorded (none, or a dispute, which counts nowhere), or when its occurredAt is before the chargeback's (details on occurredAt). A reversal is final: the chargeback reported again after it is already_recorded and counts nothing. Breach discovery's label of the card is taken back too. Reporting the same outcome twice changes nothing. A field sent under a near miss of a field's name (occured_at, reason_code, OccurredAt) is refused, 400 naming the field it resembles, rather than dropped unread; fields of other names are ignored. An occurredAt more than 5 minutes ahead of the engine's clock, or before the transaction's own time, is refused (400). An outcome may come months after the scoring: once the transaction's marker has gone (3 days by default) it is found in the transaction archive (180 days by default), as is a transaction answered degraded (Redis unreachable: archived uncounted); 404 for a transaction neither holds. 503 UNAVAILABLE with Retry-After when a store is down or does not answer within 2 s: retry, an outcome recorded meanwhile is answered already_recorded.
     */
    post: operations['reportOutcome'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your subscriptions, oldest first, a page at a time
     * @description Pages: `limit` subscriptions at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.
     */
    get: operations['listWebhooks'];
    put?: never;
    /**
     * Subscribe a URL to events (answers the signing secret once)
     * @description Issuer keys subscribe to watchlist.hit (hits on cards of your BIN ranges, recorded from now on) and compromise.suspected (merchants breach discovery suspects, with how many of your cards each exposed), merchant keys to case.decided (analysts’ final decisions on your orders from now on; a lead’s reversal of one of them comes to the same subscription as case.decision_reversed) and case.decision_reversed. Deliveries are signed per the Standard Webhooks specification, retried with exponential backoff for at least 24 hours, and sent in order. The URL must resolve to public addresses (422 otherwise); a key holds at most LEAKGUARD_WEBHOOK_MAX_PER_TENANT subscriptions (409 beyond). The subscription records the id of the key that made it (createdByKeyId): once that key is revoked, the subscription receives nothing more (disabledReason).
     */
    post: operations['createWebhook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One of your subscriptions */
    get: operations['getWebhook'];
    put?: never;
    post?: never;
    /** Unsubscribe: pending deliveries are dropped with the subscription and its log */
    delete: operations['deleteWebhook'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The delivery log: deliveries newest first, each with its attempts
     * @description Each attempt with its time, the receiver's status or the error, and its duration. `status` keeps the deliveries in that status (unknown parameters are 400). Pages: `limit` deliveries at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.
     */
    get: operations['listWebhookDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}/deliveries/{deliveryId}/resend': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Send a delivery again
     * @description A delivered or failed delivery: the same message (same webhook-id) is queued again as a new delivery, after those already queued. A pending one: its next attempt is made now, in its place in the order. No body. A disabled subscription (its creating key revoked, or held while the key store does not hold that key): 409 WEBHOOK_DISABLED.
     */
    post: operations['resendWebhookDelivery'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}/secret/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * A new signing secret (answered once); the previous one signs too for a grace period
     * @description The subscription keeps its id, its queue and its log: every delivery from now on, retries of those queued before included, carries two signatures in its one webhook-signature header (Standard Webhooks: `v1,<new> v1,<previous>`), the new secret’s first, until `previousSecretExpiresAt` (`gracePeriodSeconds` from now, 24 hours unless given, at most 7 days); then the new one’s only, and the previous secret is dropped. A receiver verifying with either secret accepts them meanwhile: switch it to the new secret within the grace period. Rotating again during a grace period replaces the previous secret with the current one (two at most). The body may be left out.
     */
    post: operations['rotateWebhookSecret'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /**
     * @description Two BINs of the same length (6 or 8 digits), from not after to.
     * @example {
     *       "from": "411111",
     *       "to": "411199"
     *     }
     */
    BinRange: {
      from: string;
      to: string;
    };
    /**
     * @description Two BINs of the same length (6 or 8 digits), from not after to.
     * @example {
     *       "from": "411111",
     *       "to": "411199"
     *     }
     */
    BinRangeInput: {
      from: string;
      to: string;
    };
    /**
     * @example {
     *       "cards": [
     *         {
     *           "pan": "4111111111111111"
     *         },
     *         {
     *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk"
     *         }
     *       ]
     *     }
     */
    CardLookupInput: {
      /** @description 1 to 1000 cards, each {"pan": "..."} or {"fingerprint": "..."} (as DELETE /v1/cards takes them). A card number (its digits plain or grouped as card lists may be) that is not one (12 to 19 digits, Luhn) refuses the request: 400 on its path, the number never repeated. */
      cards: (
        | {
            /** @description The card number: its digits, plain or grouped as card lists may be (`4111 1111 1111 1111`, `3782-822463-10005`). */
            pan: string;
          }
        | {
            fingerprint: string;
          }
      )[];
    };
    /**
     * @example {
     *       "cards": [
     *         {
     *           "index": 0,
     *           "card": "411111******1111",
     *           "fingerprint": "Vt0rQ3C2qF1nJcO8yBm4dWkX6zA9hLp5sGeR7uNaT2E",
     *           "listed": true,
     *           "events": [
     *             {
     *               "id": "ce_7",
     *               "externalId": "breach-2026-11",
     *               "issuerId": "bank-a",
     *               "source": "card network alert",
     *               "status": "open",
     *               "confidence": "confirmed",
     *               "dataElements": [
     *                 "pan",
     *                 "expiry",
     *                 "cvv"
     *               ],
     *               "exposureStart": "2026-05-01T00:00:00Z",
     *               "exposureEnd": "2026-10-31T00:00:00Z",
     *               "createdAt": "2026-11-12T08:00:00.000Z"
     *             }
     *           ],
     *           "leakedElements": [
     *             "pan",
     *             "expiry",
     *             "cvv"
     *           ],
     *           "firstListedAt": null
     *         },
     *         {
     *           "index": 1,
     *           "card": null,
     *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk",
     *           "listed": false,
     *           "events": [],
     *           "leakedElements": [],
     *           "firstListedAt": null
     *         }
     *       ]
     *     }
     */
    CardLookupReport: {
      cards: {
        /** @description The card masked to its BIN and last 4 (looked up by number); null when looked up by fingerprint. */
        card: string | null;
        /** @description Those events, oldest first. */
        events: components['schemas']['ListingEvent'][];
        /** @description Its fingerprint under the current card key (by number), or the one given: what DELETE /v1/cards takes. Null when refused. */
        fingerprint: string | null;
        /** @description Admins only (null for an issuer): when the card was first listed, by any event. A card's entry keeps one time for every issuer's listings, so an issuer is not shown it: it could tell that another issuer listed the card first. An issuer's events carry their createdAt. */
        firstListedAt: string | null;
        /** @description The card's place in the request (from 0). */
        index: number;
        /** @description What leaked about the card: those events' elements. */
        leakedElements: ('pan' | 'expiry' | 'cvv' | 'name' | 'billing_address' | 'email' | 'phone' | 'track' | 'pin')[];
        /** @description Listed by a live event the key may see (an issuer's: its own only). */
        listed: boolean;
        /** @description Why this card was not looked up (BIN_NOT_OWNED: an issuer's card number outside its BIN ranges). */
        refused?: string;
      }[];
    };
    /**
     * @example {
     *       "cards": [
     *         {
     *           "pan": "4111111111111111"
     *         },
     *         {
     *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk"
     *         }
     *       ]
     *     }
     */
    CardRemovalInput: {
      cards: (
        | {
            /** @description The card number: its digits, plain or grouped as card lists may be (`4111 1111 1111 1111`, `3782-822463-10005`). */
            pan: string;
          }
        | {
            fingerprint: string;
          }
      )[];
      /** @description Take the cards off this event only. Without it an issuer's removal takes them off its own events, an admin's off every event. */
      eventId?: string;
    };
    /**
     * @example {
     *       "removed": 1,
     *       "notListed": 0,
     *       "rejected": [
     *         {
     *           "index": 1,
     *           "reason": "pan fails the Luhn check"
     *         }
     *       ]
     *     }
     */
    CardRemovalReport: {
      notListed: number;
      rejected: {
        index: number;
        reason: string;
      }[];
      removed: number;
    };
    Checks: {
      /** @enum {string} */
      model: 'evaluated' | 'skipped' | 'not_configured';
      /** @enum {string} */
      rules: 'evaluated' | 'skipped' | 'not_configured';
      /** @enum {string} */
      velocity: 'evaluated' | 'skipped' | 'not_configured';
      /** @enum {string} */
      watchlist: 'evaluated' | 'skipped' | 'not_configured';
    };
    /**
     * @example {
     *       "id": "ce_7",
     *       "externalId": "breach-2026-11",
     *       "issuerId": "bank-a",
     *       "source": "card network alert",
     *       "description": "payment page skimmer at a processor",
     *       "exposureStart": "2026-05-01T00:00:00Z",
     *       "exposureEnd": "2026-10-31T00:00:00Z",
     *       "discoveredAt": "2026-11-10T00:00:00Z",
     *       "dataElements": [
     *         "pan",
     *         "expiry",
     *         "cvv"
     *       ],
     *       "confidence": "confirmed",
     *       "status": "open",
     *       "createdAt": "2026-11-12T08:00:00.000Z",
     *       "updatedAt": "2026-11-12T08:00:00.000Z",
     *       "statistics": {
     *         "cardsListed": 1250,
     *         "cardsRemoved": 12,
     *         "hits": 3,
     *         "distinctMerchants": 2,
     *         "lastHitAt": "2026-11-20T09:30:00.000Z"
     *       }
     *     }
     */
    CompromiseEvent: {
      confidence: string;
      createdAt: string;
      dataElements: string[];
      description: string;
      discoveredAt: string;
      /** @description On events Leakguard opened itself (source leakguard-cpp): why the merchant is suspected. */
      evidence?: components['schemas']['CppEvidence'];
      exposureEnd: string;
      exposureStart: string;
      externalId: string;
      id: string;
      issuerId: string;
      source: string;
      statistics: components['schemas']['EventStatistics'];
      status: string;
      updatedAt: string;
    };
    /**
     * @example {
     *       "confidence": "confirmed"
     *     }
     * @example {
     *       "exposureEnd": "2026-09-30T00:00:00Z"
     *     }
     */
    CompromiseEventChangeInput: {
      /** @enum {string} */
      confidence?: 'confirmed' | 'suspected';
      /**
       * Format: date-time
       * @description Not before the event's exposureStart.
       */
      exposureEnd?: string;
    };
    /**
     * @example {
     *       "events": [
     *         {
     *           "id": "ce_7",
     *           "externalId": "breach-2026-11",
     *           "issuerId": "bank-a",
     *           "source": "card network alert",
     *           "description": "payment page skimmer at a processor",
     *           "exposureStart": "2026-05-01T00:00:00Z",
     *           "exposureEnd": "2026-10-31T00:00:00Z",
     *           "discoveredAt": "2026-11-10T00:00:00Z",
     *           "dataElements": [
     *             "pan",
     *             "expiry",
     *             "cvv"
     *           ],
     *           "confidence": "confirmed",
     *           "status": "open",
     *           "createdAt": "2026-11-12T08:00:00.000Z",
     *           "updatedAt": "2026-11-12T08:00:00.000Z",
     *           "statistics": {
     *             "cardsListed": 1250,
     *             "cardsRemoved": 12,
     *             "hits": 3,
     *             "distinctMerchants": 2,
     *             "lastHitAt": "2026-11-20T09:30:00.000Z"
     *           }
     *         }
     *       ],
     *       "has_more": true,
     *       "next": "events_AAAAAAAH"
     *     }
     */
    CompromiseEventPage: {
      events: components['schemas']['CompromiseEvent'][];
      /** @description Whether more items follow this page: fetch them with starting_after = next. */
      has_more: boolean;
      /** @description The cursor of the following page (pass it as starting_after); null when has_more is false. */
      next: string | null;
    };
    /**
     * @example {
     *       "merchantId": "shop-77",
     *       "fraudCards": 23,
     *       "weightedFraudCards": 14.5,
     *       "expected": 0.41,
     *       "log10PValue": -21.3,
     *       "exposedCards": 1840,
     *       "exposedByBin": {
     *         "411111": 920,
     *         "555555": 920
     *       },
     *       "firstFrauds": [
     *         1780000000000,
     *         1780003600000
     *       ],
     *       "scannedAt": "2026-11-20T06:00:00.000Z",
     *       "listedUntil": "2026-11-20T06:00:00.000Z",
     *       "presumedOver": false
     *     }
     */
    CppEvidence: {
      /** @description What chance would give, from the merchant’s share of all cards. */
      expected: number;
      exposedByBin: {
        [key: string]: number;
      };
      /** @description Cards that used the merchant since the window opened, up to listedUntil, listed on the event. */
      exposedCards: number;
      /** @description The fraudulent cards’ first frauds, epoch ms, ascending. */
      firstFrauds: number[];
      /** @description Fraudulent cards that used the merchant before their first fraud. */
      fraudCards: number;
      /** @description The latest visit whose card the scan listed: the scan’s time while the breach may still run, the exposure window’s end once it is presumed over. */
      listedUntil?: string;
      /** @description log10 of the p-value, corrected for the number of merchants tested. */
      log10PValue: number;
      merchantId: string;
      /** @description The breach is presumed over: no compromising visit was seen for twice the time its cards took to show fraud after their visit there (90th percentile) since the latest one; cards used there since are not listed. */
      presumedOver?: boolean;
      /** @description An analyst’s confirmation or dismissal (console). */
      review?: {
        at: string;
        by: string;
        /** @enum {string} */
        decision: 'confirmed' | 'dismissed';
      };
      scannedAt: string;
      /** @description Their count weighted by how far each label can be trusted. */
      weightedFraudCards: number;
    };
    /**
     * @example {
     *       "at": "2026-11-20T06:00:00.000Z",
     *       "scannedFrom": "2026-10-21T06:00:00.000Z",
     *       "truncated": false,
     *       "labelledCards": 44,
     *       "fraudulentCards": 41,
     *       "merchantsTested": 212,
     *       "distinctCards": 180000,
     *       "merchantsPerCard": 6.4,
     *       "suspected": [
     *         {
     *           "merchantId": "shop-77",
     *           "eventId": "ce_12",
     *           "created": true,
     *           "status": "open",
     *           "confidence": "suspected",
     *           "fraudCards": 23,
     *           "expected": 0.41,
     *           "log10PValue": -21.3,
     *           "windowStart": "2026-10-01T09:12:00.000Z",
     *           "windowEnd": "2026-11-02T18:40:00.000Z",
     *           "exposedCards": 1840,
     *           "newlyExposed": 1840
     *         }
     *       ]
     *     }
     */
    CppScanReport: {
      at: string;
      distinctCards: number;
      /** @description Cards whose first fraud fell in the recent period scanned. */
      fraudulentCards: number;
      /** @description Cards labelled in the period scanned, held against the scan's budget (LEAKGUARD_CPP_SCAN_MAX_CARDS): at least fraudulentCards, as cards whose fraud began earlier count too. */
      labelledCards: number;
      /** @description How many merchants the average card used in the period: a fraudulent card that used more counts as that many times an average card in what chance gives (0: none recorded yet, every card average). */
      merchantsPerCard: number;
      merchantsTested: number;
      /** @description The start of the period whose first frauds the scan tested: its longest window's start (30 days before `at`), or later when truncated (`at` itself when no card fit). */
      scannedFrom: string;
      suspected: {
        confidence: string;
        /** @description False when a previous scan opened the event: newly exposed cards were added. */
        created: boolean;
        eventId: string;
        expected: number;
        exposedCards: number;
        fraudCards: number;
        log10PValue: number;
        merchantId: string;
        newlyExposed: number;
        status: string;
        windowEnd: string;
        windowStart: string;
      }[];
      /** @description The cards labelled in the longest window exceeded the scan's budget (LEAKGUARD_CPP_SCAN_MAX_CARDS): it tested the most recent cards that fit, from scannedFrom, its longer windows shortened to them. */
      truncated: boolean;
    };
    /**
     * @default {}
     * @example {}
     */
    CppScanRequestInput: {
      /**
       * Format: date-time
       * @description The scan’s time (the transactions’ own time); default: the latest transaction recorded.
       */
      at?: string;
    };
    /**
     * @example {
     *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
     *       "url": "https://hooks.bank.example/leakguard",
     *       "eventTypes": [
     *         "watchlist.hit"
     *       ],
     *       "description": "fraud desk",
     *       "createdAt": "2026-12-02T10:00:00.000Z",
     *       "previousSecretExpiresAt": null,
     *       "createdByKeyId": "key_3f9a1c07b2e4",
     *       "disabledReason": null,
     *       "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
     *     }
     */
    CreatedWebhook: {
      createdAt: string;
      /** @description The id of the API key that made the subscription (as `npm run keys -- list` shows it; never the key). Null for a subscription made before this was recorded. */
      createdByKeyId: string | null;
      description: string;
      /** @description Null while the subscription is served. `creating key revoked`: the API key that made it was revoked, so nothing is fed or sent to it any more (pending deliveries are given up; re-sends are 409 WEBHOOK_DISABLED); delete it, and subscribe again with a live key if the receiver is yours. `creating key not found in the key store`: held while the key store does not hold that key. */
      disabledReason: string | null;
      eventTypes: components['schemas']['WebhookEventType'][];
      id: string;
      /** @description After a rotation of the signing secret: until when deliveries also carry a signature made with the previous secret (its grace period). Null: signed with the current secret only. Neither secret is ever shown here. */
      previousSecretExpiresAt: string | null;
      /** @description The signing secret (whsec_…): shown this once. Verify each delivery with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). */
      secret: string;
      url: string;
    };
    /**
     * @example {
     *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
     *       "deleted": true
     *     }
     */
    DeletedWebhook: {
      /** @enum {boolean} */
      deleted: true;
      id: string;
    };
    /**
     * @description Every refusal of the API: `error` for people, `code` for machines, `details` per field
     * @example {
     *       "error": "invalid request",
     *       "code": "VALIDATION_FAILED",
     *       "details": [
     *         {
     *           "path": "card.number",
     *           "message": "fails the Luhn check"
     *         }
     *       ]
     *     }
     */
    Error: {
      /**
       * @description Stable, machine-readable: what went wrong (docs/errors.md)
       * @enum {string}
       */
      code:
        | 'VALIDATION_FAILED'
        | 'MALFORMED_BODY'
        | 'MALFORMED_URL'
        | 'BAD_REQUEST'
        | 'UNAUTHENTICATED'
        | 'FORBIDDEN'
        | 'CASE_FORBIDDEN'
        | 'NOT_FOUND'
        | 'EVENT_NOT_FOUND'
        | 'TRANSACTION_NOT_FOUND'
        | 'MODEL_NOT_CONFIGURED'
        | 'METHOD_NOT_ALLOWED'
        | 'CASE_NOT_FOUND'
        | 'WEBHOOK_NOT_FOUND'
        | 'DELIVERY_NOT_FOUND'
        | 'TRANSACTION_CONFLICT'
        | 'EVENT_CONFLICT'
        | 'CASE_CONFLICT'
        | 'OUTCOME_CONFLICT'
        | 'BIN_RANGE_CONFLICT'
        | 'CPP_DISABLED'
        | 'USER_EXISTS'
        | 'WEBHOOK_LIMIT_REACHED'
        | 'WEBHOOK_DISABLED'
        | 'PAYLOAD_TOO_LARGE'
        | 'URI_TOO_LONG'
        | 'UNSUPPORTED_MEDIA_TYPE'
        | 'UPLOAD_REFUSED'
        | 'NO_EXCHANGE_RATE'
        | 'WEBHOOK_URL_REFUSED'
        | 'RULESET_INVALID'
        | 'RATE_TABLE_INVALID'
        | 'MODEL_INVALID'
        | 'RATE_LIMITED'
        | 'AUTH_RATE_LIMITED'
        | 'INTERNAL'
        | 'UNAVAILABLE'
        | 'AUTH_UNAVAILABLE'
        | 'CONFIG_INVALID'
        | 'KEY_REQUEST_INVALID'
        | 'PERSONAL_DATA_UNREADABLE'
        | 'DEADLINE_EXCEEDED'
        | 'STORE_TIMEOUT'
        | 'DATABASE_BUSY'
        | 'TRANSACTION_INVALID'
        | 'KAFKA_NOT_AUTHORIZED'
        | 'USAGE'
        | 'PORT_TAKEN';
      /** @description Each field at fault: the request's field names (querystring.limit, items.0.name, (root)) */
      details?: components['schemas']['ErrorDetail'][];
      /** @description For people: its wording may be refined; it never repeats a card number */
      error: string;
      /** @description A card list refused part way (UPLOAD_REFUSED, EVENT_CONFLICT), or whose store failed part way (UNAVAILABLE): what the lines before did, as an upload report says */
      kept?: {
        accepted: number;
        duplicates: number;
        errors: {
          card: string;
          code: string;
          line: number;
          reason: string;
        }[];
        rejected: number;
        /** @description Every rejected line counted by its code (MALFORMED, INVALID_CARD, INVALID_EXPIRY, BIN_NOT_OWNED, LINE_TOO_LONG) */
        rejectedByCode: {
          [key: string]: number;
        };
      };
    };
    /**
     * @example {
     *       "path": "card.number",
     *       "message": "fails the Luhn check"
     *     }
     */
    ErrorDetail: {
      message: string;
      path: string;
    };
    /**
     * @example {
     *       "cardsListed": 1250,
     *       "cardsRemoved": 12,
     *       "hits": 3,
     *       "distinctMerchants": 2,
     *       "lastHitAt": "2026-11-20T09:30:00.000Z"
     *     }
     */
    EventStatistics: {
      cardsListed: number;
      cardsRemoved: number;
      distinctMerchants: number;
      hits: number;
      lastHitAt: string | null;
    };
    /**
     * @example {
     *       "status": "ok"
     *     }
     */
    Health: {
      /** @enum {string} */
      status: 'ok';
    };
    /**
     * @example {
     *       "at": "2026-11-20T09:29:58.000Z",
     *       "recordedAt": "2026-11-20T09:30:00.120Z",
     *       "merchantId": "shop-1",
     *       "transactionId": "order-1001",
     *       "amount": 1999,
     *       "currency": "EUR",
     *       "decision": "challenge",
     *       "score": 72,
     *       "card": "411111******1111",
     *       "eventIds": [
     *         "ce_7"
     *       ]
     *     }
     */
    Hit: {
      amount: number;
      /** @description The transaction's own time (the scored request's occurredAt, else when it was scored). */
      at: string;
      card: string;
      currency: string;
      decision: string;
      eventIds: string[];
      merchantId: string;
      /** @description When the hit was recorded: the list is ordered, filtered (`from`, `to`) and paged by this time. */
      recordedAt: string;
      score: number;
      transactionId: string;
    };
    /**
     * @example {
     *       "hits": [
     *         {
     *           "at": "2026-11-20T09:29:58.000Z",
     *           "recordedAt": "2026-11-20T09:30:00.120Z",
     *           "merchantId": "shop-1",
     *           "transactionId": "order-1001",
     *           "amount": 1999,
     *           "currency": "EUR",
     *           "decision": "challenge",
     *           "score": 72,
     *           "card": "411111******1111",
     *           "eventIds": [
     *             "ce_7"
     *           ]
     *         }
     *       ],
     *       "has_more": true,
     *       "next": "hits_AZqfZXqgAAAAAAAA"
     *     }
     */
    HitPage: {
      /** @description Whether more items follow this page: fetch them with starting_after = next. */
      has_more: boolean;
      hits: components['schemas']['Hit'][];
      /** @description The cursor of the following page (pass it as starting_after); null when has_more is false. */
      next: string | null;
    };
    /**
     * @example {
     *       "issuerId": "bank-a",
     *       "ranges": [
     *         {
     *           "from": "411111",
     *           "to": "411199"
     *         }
     *       ]
     *     }
     */
    IssuerBinRanges: {
      issuerId: string;
      ranges: components['schemas']['BinRange'][];
    };
    /**
     * @example {
     *       "events": [
     *         {
     *           "id": "ce_12",
     *           "merchantId": "shop-77",
     *           "status": "open",
     *           "confidence": "confirmed",
     *           "exposureStart": "2026-10-01T09:12:00.000Z",
     *           "exposureEnd": "2026-11-02T18:40:00.000Z",
     *           "discoveredAt": "2026-11-20T06:00:00.000Z",
     *           "exposedCards": 920
     *         },
     *         {
     *           "id": "ce_15",
     *           "status": "open",
     *           "confidence": "suspected",
     *           "exposureStart": "2026-10-20T00:00:00.000Z",
     *           "exposureEnd": "2026-11-19T00:00:00.000Z",
     *           "discoveredAt": "2026-11-21T06:00:00.000Z",
     *           "exposedCards": 41
     *         }
     *       ],
     *       "has_more": false,
     *       "next": null
     *     }
     */
    IssuerSuspectedEvents: {
      events: {
        confidence: string;
        discoveredAt: string;
        /** @description Exposed cards in your BIN ranges. */
        exposedCards: number;
        exposureEnd: string;
        /** @description The estimated exposure window: exact once an analyst confirmed the event; before that, whole UTC days (from midnight to the midnight after its end). */
        exposureStart: string;
        id: string;
        /** @description The suspected merchant: present once an analyst confirmed the event (confidence confirmed), absent before. An unreviewed suspicion is statistical and does not name the merchant. */
        merchantId?: string;
        status: string;
      }[];
      /** @description Whether more items follow this page: fetch them with starting_after = next. */
      has_more: boolean;
      /** @description The cursor of the following page (pass it as starting_after); null when has_more is false. */
      next: string | null;
    };
    /**
     * @description A live event (open or closed) that lists the card, shown as GET /v1/compromise-events shows it. An issuer's own events, and for its own card numbers Leakguard's suspected breaches an analyst confirmed (issuerId leakguard, source leakguard-cpp).
     * @example {
     *       "id": "ce_7",
     *       "externalId": "breach-2026-11",
     *       "issuerId": "bank-a",
     *       "source": "card network alert",
     *       "status": "open",
     *       "confidence": "confirmed",
     *       "dataElements": [
     *         "pan",
     *         "expiry",
     *         "cvv"
     *       ],
     *       "exposureStart": "2026-05-01T00:00:00Z",
     *       "exposureEnd": "2026-10-31T00:00:00Z",
     *       "createdAt": "2026-11-12T08:00:00.000Z"
     *     }
     */
    ListingEvent: {
      confidence: string;
      createdAt: string;
      dataElements: string[];
      exposureEnd: string;
      exposureStart: string;
      externalId: string;
      id: string;
      issuerId: string;
      source: string;
      status: string;
    };
    /**
     * @example {
     *       "version": "rf-2026-11-01",
     *       "amountReference": "EUR",
     *       "featureSet": {
     *         "name": "engine",
     *         "version": 3,
     *         "features": [
     *           "card_listed",
     *           "amount_eur"
     *         ]
     *       },
     *       "createdAt": "2026-11-01T00:00:00.000Z",
     *       "trees": 200,
     *       "training": {
     *         "from": "2026-08-01T00:00:00.000Z",
     *         "to": "2026-10-31T00:00:00.000Z",
     *         "rows": 250000,
     *         "frauds": 1900,
     *         "fingerprint": "c2f1e0"
     *       },
     *       "lastReload": null
     *     }
     */
    ModelInfo: {
      /** @description The currency the model reads amounts in: always the rate table's reference */
      amountReference: string;
      createdAt: string;
      featureSet: {
        features: string[];
        name: string;
        version: number;
      };
      lastReload: components['schemas']['ReloadOutcome'] | null;
      metrics?: {
        [key: string]: unknown;
      };
      training: {
        fingerprint: string;
        frauds: number;
        from: string;
        /** @description What the forest learnt as fraud, as its training said it (a deployment's recorded labels, the simulator's truth or its chargebacks by a cut-off); absent in artifacts from before it was kept */
        labels?: string;
        rows: number;
        to: string;
      };
      trees: number;
      version: string;
    };
    NewCompromiseEventInput: {
      /**
       * @default confirmed
       * @enum {string}
       */
      confidence?: 'confirmed' | 'suspected';
      /** @description What leaked: must include pan, no element twice. */
      dataElements: ('pan' | 'expiry' | 'cvv' | 'name' | 'billing_address' | 'email' | 'phone' | 'track' | 'pin')[];
      description?: string;
      /** Format: date-time */
      discoveredAt: string;
      /**
       * Format: date-time
       * @description Not before exposureStart.
       */
      exposureEnd: string;
      /** Format: date-time */
      exposureStart: string;
      /** @description Your reference of the breach: the event is created once per externalId. Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
      externalId: string;
      /** @description Required when an admin declares the event; an issuer's key declares for its own issuer (another id: 403). Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
      issuerId?: string;
      source: string;
    };
    /**
     * @example {
     *       "url": "https://hooks.bank.example/leakguard",
     *       "eventTypes": [
     *         "watchlist.hit"
     *       ],
     *       "description": "fraud desk"
     *     }
     */
    NewWebhookInput: {
      /** @description For your own reference. */
      description?: string;
      /** @description What to receive: watchlist.hit and compromise.suspected with an issuer key, case.decided and case.decision_reversed with a merchant key (a case.decided subscription is sent the reversals of the decisions it was sent). */
      eventTypes: components['schemas']['WebhookEventTypeInput'][];
      /**
       * Format: uri
       * @description Where deliveries are POSTed. Its host must resolve to public addresses only (checked now and before every delivery) unless the operator allows private ones.
       */
      url: string;
    };
    /**
     * @example {
     *       "outcome": "authorized"
     *     }
     * @example {
     *       "outcome": "chargeback",
     *       "reasonCode": "10.4",
     *       "occurredAt": "2026-11-20T09:30:00Z"
     *     }
     * @example {
     *       "outcome": "chargeback_reversed",
     *       "occurredAt": "2026-12-18T14:00:00Z"
     *     }
     */
    OutcomeRequestInput: {
      /** Format: date-time */
      occurredAt?: string;
      /** @enum {string} */
      outcome: 'authorized' | 'declined' | 'chargeback' | 'refund' | 'challenge_failed' | 'chargeback_reversed';
      /** @description Required when the outcome is chargeback (the network reason code); not read for other outcomes. */
      reasonCode?: string;
    };
    /**
     * @example {
     *       "transactionId": "order-1001",
     *       "outcome": "chargeback",
     *       "status": "recorded",
     *       "chargeback": "fraud"
     *     }
     */
    OutcomeResponse: {
      /**
       * @description Only for a chargeback: how its reason code counts. fraud: the holder did not make the transaction; it counts against the card and the other entities, labels the transaction as fraud and feeds breach discovery. dispute: the holder disputes a transaction they made (goods not received, not as described, duplicate, cancelled recurring, credit not processed: Visa 11.2, 11.3, 12.x and 13.x, Mastercard 4808, 4812, 4831, 4834, 4841, 4842, 4846, 4853-4855, 4859, 4860, American Express C, P, R and M codes and A01, A02, A08, Discover AP, AW, CD, DA, NA, DP, EX, LP, RG, RM, RN2; a network name before the code and other separators than dots are read: Visa 13-1 is 13.1); kept, counted nowhere. A code not known counts as fraud (and is counted: leakguard_chargeback_reason_codes_unknown_total).
       * @enum {string}
       */
      chargeback?: 'fraud' | 'dispute';
      /** @enum {string} */
      outcome: 'authorized' | 'declined' | 'chargeback' | 'refund' | 'challenge_failed' | 'chargeback_reversed';
      /** @enum {string} */
      status: 'recorded' | 'already_recorded';
      transactionId: string;
    };
    /**
     * @example {
     *       "version": "2026-11-20",
     *       "reference": "EUR",
     *       "smallAmount": 500,
     *       "currencies": [
     *         "EUR",
     *         "JPY",
     *         "USD"
     *       ],
     *       "lastReload": null
     *     }
     */
    RatesInfo: {
      currencies: string[];
      lastReload: components['schemas']['ReloadOutcome'] | null;
      reference: string;
      smallAmount: number;
      version: string;
    };
    /**
     * @example {
     *       "status": "ready",
     *       "checks": {
     *         "redis": "ok",
     *         "model": "ok"
     *       }
     *     }
     */
    Readiness: {
      checks: {
        [key: string]: string;
      };
      status: string;
    };
    /**
     * @example {
     *       "code": "LEAKED_CARD",
     *       "message": "Card listed in 1 compromise event(s); the security code did not leak"
     *     }
     */
    Reason: {
      code: string;
      message: string;
    };
    /**
     * @description The last reload since start-up (null: none). Not ok: the file on disk was refused, the version above stays in force, and the next start-up would fail on that file
     * @example {
     *       "at": "2026-11-20T10:00:00.000Z",
     *       "ok": false,
     *       "error": "invalid model artifact: forest.nTrees: ..."
     *     }
     */
    ReloadOutcome: {
      at: string;
      /** @description Why the file was refused (not ok) */
      error?: string;
      ok: boolean;
      /** @description The version loaded (ok) */
      version?: string;
      /** @description Loaded, with something to know (ok): a ruleset whose rules changed under the same version */
      warning?: string;
    };
    /**
     * @example {
     *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
     *       "url": "https://hooks.bank.example/leakguard",
     *       "eventTypes": [
     *         "watchlist.hit"
     *       ],
     *       "description": "fraud desk",
     *       "createdAt": "2026-12-02T10:00:00.000Z",
     *       "previousSecretExpiresAt": "2026-12-03T09:00:00.000Z",
     *       "createdByKeyId": "key_3f9a1c07b2e4",
     *       "disabledReason": null,
     *       "secret": "whsec_1Tq9c2pVw0yG0wq3r7XyL3ZkS2mV6hB4tR8nD5fJ"
     *     }
     */
    RotatedWebhook: {
      createdAt: string;
      /** @description The id of the API key that made the subscription (as `npm run keys -- list` shows it; never the key). Null for a subscription made before this was recorded. */
      createdByKeyId: string | null;
      description: string;
      /** @description Null while the subscription is served. `creating key revoked`: the API key that made it was revoked, so nothing is fed or sent to it any more (pending deliveries are given up; re-sends are 409 WEBHOOK_DISABLED); delete it, and subscribe again with a live key if the receiver is yours. `creating key not found in the key store`: held while the key store does not hold that key. */
      disabledReason: string | null;
      eventTypes: components['schemas']['WebhookEventType'][];
      id: string;
      /** @description After a rotation of the signing secret: until when deliveries also carry a signature made with the previous secret (its grace period). Null: signed with the current secret only. Neither secret is ever shown here. */
      previousSecretExpiresAt: string | null;
      /** @description The new signing secret (whsec_…): shown this once. Deliveries carry its signature first, then, until previousSecretExpiresAt, the previous secret’s, in the one webhook-signature header. */
      secret: string;
      url: string;
    };
    /**
     * @default {
     *       "gracePeriodSeconds": 86400
     *     }
     * @example {
     *       "gracePeriodSeconds": 3600
     *     }
     */
    RotateWebhookSecretInput: {
      /**
       * @description How long deliveries also carry a signature made with the current secret, beside the new one: 0 to 604800 seconds (7 days), 86400 (24 hours) unless given. 0 drops it at once.
       * @default 86400
       */
      gracePeriodSeconds?: number;
    };
    /**
     * @example {
     *       "version": "2026-11-01+3f9a1c2e",
     *       "rules": 31,
     *       "merchantOverrides": 2,
     *       "lastReload": null
     *     }
     */
    RulesetInfo: {
      lastReload: components['schemas']['ReloadOutcome'] | null;
      merchantOverrides: number;
      rules: number;
      /** @description Its declared version and its content's digest, as scoring answers name it (versions.ruleset) */
      version: string;
    };
    ScoreRequestInput: {
      amount: number;
      billingAddress?: {
        city?: string;
        country?: string;
        line1?: string;
        line2?: string;
        name?: string;
        postalCode?: string;
        region?: string;
      };
      /** @description A security code field is refused, here or anywhere in the request, whatever its case or separators: a name holding cvv, cvc, ccv, cv2, csc, cvn, cav2, securityCode, verificationValue, verificationCode, track1, track2 or trackData (cvv2, card_cvv, cvvCode, ...), or cid, cvd or pin as a word; not one saying only the outcome of the check (cvvResult). Verify the code with your processor and send cvvResult. */
      card: {
        /**
         * @default not_checked
         * @enum {string}
         */
        cvvResult?: 'match' | 'mismatch' | 'not_checked';
        expiryMonth: number;
        expiryYear: number;
        /** @description 12 to 19 digits that pass the Luhn check. */
        number: string;
      } & {
        [key: string]: unknown;
      };
      /** @enum {string} */
      channel: 'ecommerce' | 'moto' | 'pos' | 'in_app';
      /** @enum {string} */
      currency:
        | 'AED'
        | 'AFN'
        | 'ALL'
        | 'AMD'
        | 'ANG'
        | 'AOA'
        | 'ARS'
        | 'AUD'
        | 'AWG'
        | 'AZN'
        | 'BAM'
        | 'BBD'
        | 'BDT'
        | 'BGN'
        | 'BHD'
        | 'BIF'
        | 'BMD'
        | 'BND'
        | 'BOB'
        | 'BRL'
        | 'BSD'
        | 'BTN'
        | 'BWP'
        | 'BYN'
        | 'BZD'
        | 'CAD'
        | 'CDF'
        | 'CHF'
        | 'CLP'
        | 'CNY'
        | 'COP'
        | 'CRC'
        | 'CUC'
        | 'CUP'
        | 'CVE'
        | 'CZK'
        | 'DJF'
        | 'DKK'
        | 'DOP'
        | 'DZD'
        | 'EGP'
        | 'ERN'
        | 'ETB'
        | 'EUR'
        | 'FJD'
        | 'FKP'
        | 'GBP'
        | 'GEL'
        | 'GHS'
        | 'GIP'
        | 'GMD'
        | 'GNF'
        | 'GTQ'
        | 'GYD'
        | 'HKD'
        | 'HNL'
        | 'HTG'
        | 'HUF'
        | 'IDR'
        | 'ILS'
        | 'INR'
        | 'IQD'
        | 'IRR'
        | 'ISK'
        | 'JMD'
        | 'JOD'
        | 'JPY'
        | 'KES'
        | 'KGS'
        | 'KHR'
        | 'KMF'
        | 'KPW'
        | 'KRW'
        | 'KWD'
        | 'KYD'
        | 'KZT'
        | 'LAK'
        | 'LBP'
        | 'LKR'
        | 'LRD'
        | 'LSL'
        | 'LYD'
        | 'MAD'
        | 'MDL'
        | 'MGA'
        | 'MKD'
        | 'MMK'
        | 'MNT'
        | 'MOP'
        | 'MRU'
        | 'MUR'
        | 'MVR'
        | 'MWK'
        | 'MXN'
        | 'MYR'
        | 'MZN'
        | 'NAD'
        | 'NGN'
        | 'NIO'
        | 'NOK'
        | 'NPR'
        | 'NZD'
        | 'OMR'
        | 'PAB'
        | 'PEN'
        | 'PGK'
        | 'PHP'
        | 'PKR'
        | 'PLN'
        | 'PYG'
        | 'QAR'
        | 'RON'
        | 'RSD'
        | 'RUB'
        | 'RWF'
        | 'SAR'
        | 'SBD'
        | 'SCR'
        | 'SDG'
        | 'SEK'
        | 'SGD'
        | 'SHP'
        | 'SLE'
        | 'SOS'
        | 'SRD'
        | 'SSP'
        | 'STN'
        | 'SVC'
        | 'SYP'
        | 'SZL'
        | 'THB'
        | 'TJS'
        | 'TMT'
        | 'TND'
        | 'TOP'
        | 'TRY'
        | 'TTD'
        | 'TWD'
        | 'TZS'
        | 'UAH'
        | 'UGX'
        | 'USD'
        | 'UYU'
        | 'UYW'
        | 'UZS'
        | 'VED'
        | 'VES'
        | 'VND'
        | 'VUV'
        | 'WST'
        | 'XAF'
        | 'XCD'
        | 'XCG'
        | 'XOF'
        | 'XPF'
        | 'YER'
        | 'ZAR'
        | 'ZMW'
        | 'ZWG';
      customer?: {
        /**
         * Format: date-time
         * @description Refused (400) when more than 5 minutes ahead of the engine's clock, as occurredAt is.
         */
        accountCreatedAt?: string;
        /**
         * Format: idn-email
         * @description Internationalised addresses (RFC 6531: jané@example.com, jane@例え.jp) are accepted; surrounding whitespace is trimmed.
         */
        email?: string;
        /** @description Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
        id?: string;
        /** @description Digits with an optional leading +, separated as checkouts send them: spaces, dots, dashes, parentheses. */
        phone?: string;
      };
      device?: {
        /** @description Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
        id?: string;
        ip?: string;
        userAgent?: string;
      };
      items?: {
        category?: string;
        name: string;
        /** @default 1 */
        quantity?: number;
        sku?: string;
        unitPrice?: number;
      }[];
      /** Format: date-time */
      occurredAt?: string;
      shippingAddress?: {
        city?: string;
        country?: string;
        line1?: string;
        line2?: string;
        name?: string;
        postalCode?: string;
        region?: string;
      };
      threeDS?: {
        /**
         * @description The authentication result: Y authenticated; N, R failed or rejected; A attempted, U unavailable (not challenged again: the merchant's unansweredStepUp policy decides, docs/decision-policy.md); C, D a challenge under way and I information only (no result yet).
         * @enum {string}
         */
        status: 'Y' | 'N' | 'U' | 'A' | 'C' | 'D' | 'R' | 'I';
        version?: string;
      };
      /** @description Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
      transactionId: string;
    };
    /**
     * @example {
     *       "transactionId": "order-1001",
     *       "score": 72,
     *       "decision": "challenge",
     *       "reasons": [
     *         {
     *           "code": "LEAKED_CARD",
     *           "message": "Card listed in 1 compromise event(s); the security code did not leak"
     *         }
     *       ],
     *       "ifAuthenticated": "approve",
     *       "checks": {
     *         "velocity": "evaluated",
     *         "rules": "evaluated",
     *         "watchlist": "evaluated",
     *         "model": "evaluated"
     *       },
     *       "degraded": false,
     *       "versions": {
     *         "engine": "0.1.0",
     *         "ruleset": "2026-11-01+3f9a1c2e",
     *         "model": "rf-2026-11-01"
     *       }
     *     }
     */
    ScoreResponse: {
      checks: components['schemas']['Checks'];
      /** @enum {string} */
      decision: 'approve' | 'challenge' | 'review' | 'decline';
      degraded: boolean;
      /**
       * @description Only with decision challenge: the decision once 3-D Secure authenticates the cardholder (status Y). Act on it after the challenge instead of scoring the order again, which would count it twice; report the result with POST /v1/transactions/{id}/outcome (authorized, or challenge_failed when the challenge failed, was refused or abandoned).
       * @enum {string}
       */
      ifAuthenticated?: 'approve' | 'review' | 'decline';
      reasons: components['schemas']['Reason'][];
      score: number;
      transactionId: string;
      versions: {
        engine: string;
        model?: string;
        /** @description The ruleset that decided: its declared version and its content's digest (default-2026.12.8a+3f9a1c2e); the digest changes with any rule, the version only when its author changes it */
        ruleset: string;
      };
    };
    /**
     * @example {
     *       "accepted": 2,
     *       "duplicates": 0,
     *       "rejected": 1,
     *       "rejectedByCode": {
     *         "INVALID_CARD": 1
     *       },
     *       "errors": [
     *         {
     *           "line": 3,
     *           "code": "INVALID_CARD",
     *           "reason": "card number fails the Luhn check",
     *           "card": "411111******1112"
     *         }
     *       ]
     *     }
     */
    UploadReport: {
      accepted: number;
      duplicates: number;
      /** @description The first 100 rejected lines, cards masked. */
      errors: {
        card: string;
        code: string;
        line: number;
        reason: string;
      }[];
      rejected: number;
      /** @description Every rejected line counted by its code (MALFORMED, INVALID_CARD, INVALID_EXPIRY, BIN_NOT_OWNED, LINE_TOO_LONG) */
      rejectedByCode: {
        [key: string]: number;
      };
    };
    /**
     * @example {
     *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
     *       "url": "https://hooks.bank.example/leakguard",
     *       "eventTypes": [
     *         "watchlist.hit"
     *       ],
     *       "description": "fraud desk",
     *       "createdAt": "2026-12-02T10:00:00.000Z",
     *       "previousSecretExpiresAt": null,
     *       "createdByKeyId": "key_3f9a1c07b2e4",
     *       "disabledReason": null
     *     }
     */
    Webhook: {
      createdAt: string;
      /** @description The id of the API key that made the subscription (as `npm run keys -- list` shows it; never the key). Null for a subscription made before this was recorded. */
      createdByKeyId: string | null;
      description: string;
      /** @description Null while the subscription is served. `creating key revoked`: the API key that made it was revoked, so nothing is fed or sent to it any more (pending deliveries are given up; re-sends are 409 WEBHOOK_DISABLED); delete it, and subscribe again with a live key if the receiver is yours. `creating key not found in the key store`: held while the key store does not hold that key. */
      disabledReason: string | null;
      eventTypes: components['schemas']['WebhookEventType'][];
      id: string;
      /** @description After a rotation of the signing secret: until when deliveries also carry a signature made with the previous secret (its grace period). Null: signed with the current secret only. Neither secret is ever shown here. */
      previousSecretExpiresAt: string | null;
      url: string;
    };
    /**
     * @example {
     *       "at": "2026-12-02T10:00:01.120Z",
     *       "durationMs": 84,
     *       "statusCode": 503,
     *       "error": "receiver answered 503"
     *     }
     */
    WebhookAttempt: {
      at: string;
      durationMs: number;
      /** @description Why the attempt failed (null when delivered). */
      error: string | null;
      /** @description The receiver’s status; null when it did not answer. */
      statusCode: number | null;
    };
    /**
     * @example {
     *       "id": "dlv_Qm9yZ2V0IGl0LCBpdCdzIGE",
     *       "messageId": "msg_c2lnbmVkIHdlYmhvb2tzIQ",
     *       "eventType": "watchlist.hit",
     *       "status": "pending",
     *       "occurredAt": "2026-12-02T10:00:00.512Z",
     *       "createdAt": "2026-12-02T10:00:01.010Z",
     *       "nextAttemptAt": "2026-12-02T10:00:06.120Z",
     *       "waitingBehind": null,
     *       "completedAt": null,
     *       "resendOf": null,
     *       "data": {
     *         "merchantId": "shop-7",
     *         "transactionId": "order-1001",
     *         "at": "2026-12-02T10:00:00.512Z",
     *         "recordedAt": "2026-12-02T10:00:00.530Z",
     *         "amount": 1999,
     *         "currency": "EUR",
     *         "decision": "challenge",
     *         "score": 62,
     *         "card": {
     *           "bin": "411111",
     *           "last4": "1111"
     *         },
     *         "eventIds": [
     *           "ce_1"
     *         ]
     *       },
     *       "attempts": [
     *         {
     *           "at": "2026-12-02T10:00:01.120Z",
     *           "durationMs": 84,
     *           "statusCode": 503,
     *           "error": "receiver answered 503"
     *         }
     *       ]
     *     }
     */
    WebhookDelivery: {
      attempts: components['schemas']['WebhookAttempt'][];
      completedAt: string | null;
      createdAt: string;
      /** @description The payload’s data (docs/webhooks.md): never a card number. */
      data: {
        [key: string]: unknown;
      };
      eventType: components['schemas']['WebhookEventType'];
      id: string;
      /** @description The webhook-id header: the same on every attempt and on a re-send. */
      messageId: string;
      /** @description While pending: when it is attempted next; for one waiting behind an older pending delivery, no sooner than that one’s next attempt. */
      nextAttemptAt: string | null;
      occurredAt: string;
      resendOf: string | null;
      /** @enum {string} */
      status: 'pending' | 'delivered' | 'failed';
      /** @description While pending behind an older pending delivery being retried: that one’s id. Deliveries are sent in order: this one goes once that one is delivered or given up. */
      waitingBehind: string | null;
    };
    /**
     * @example {
     *       "deliveries": [
     *         {
     *           "id": "dlv_Qm9yZ2V0IGl0LCBpdCdzIGE",
     *           "messageId": "msg_c2lnbmVkIHdlYmhvb2tzIQ",
     *           "eventType": "watchlist.hit",
     *           "status": "pending",
     *           "occurredAt": "2026-12-02T10:00:00.512Z",
     *           "createdAt": "2026-12-02T10:00:01.010Z",
     *           "nextAttemptAt": "2026-12-02T10:00:06.120Z",
     *           "waitingBehind": null,
     *           "completedAt": null,
     *           "resendOf": null,
     *           "data": {
     *             "merchantId": "shop-7",
     *             "transactionId": "order-1001",
     *             "at": "2026-12-02T10:00:00.512Z",
     *             "recordedAt": "2026-12-02T10:00:00.530Z",
     *             "amount": 1999,
     *             "currency": "EUR",
     *             "decision": "challenge",
     *             "score": 62,
     *             "card": {
     *               "bin": "411111",
     *               "last4": "1111"
     *             },
     *             "eventIds": [
     *               "ce_1"
     *             ]
     *           },
     *           "attempts": [
     *             {
     *               "at": "2026-12-02T10:00:01.120Z",
     *               "durationMs": 84,
     *               "statusCode": 503,
     *               "error": "receiver answered 503"
     *             }
     *           ]
     *         }
     *       ],
     *       "has_more": false,
     *       "next": null
     *     }
     */
    WebhookDeliveryPage: {
      deliveries: components['schemas']['WebhookDelivery'][];
      /** @description Whether more items follow this page: fetch them with starting_after = next. */
      has_more: boolean;
      /** @description The cursor of the following page (pass it as starting_after); null when has_more is false. */
      next: string | null;
    };
    /**
     * @description Issuer keys: watchlist.hit, compromise.suspected. Merchant keys: case.decided, case.decision_reversed.
     * @enum {string}
     */
    WebhookEventType: 'watchlist.hit' | 'case.decided' | 'case.decision_reversed' | 'compromise.suspected';
    /**
     * @description Issuer keys: watchlist.hit, compromise.suspected. Merchant keys: case.decided, case.decision_reversed.
     * @enum {string}
     */
    WebhookEventTypeInput: 'watchlist.hit' | 'case.decided' | 'case.decision_reversed' | 'compromise.suspected';
    /**
     * @example {
     *       "webhooks": [
     *         {
     *           "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
     *           "url": "https://hooks.bank.example/leakguard",
     *           "eventTypes": [
     *             "watchlist.hit"
     *           ],
     *           "description": "fraud desk",
     *           "createdAt": "2026-12-02T10:00:00.000Z",
     *           "previousSecretExpiresAt": null,
     *           "createdByKeyId": "key_3f9a1c07b2e4",
     *           "disabledReason": null
     *         }
     *       ],
     *       "has_more": false,
     *       "next": null
     *     }
     */
    WebhookPage: {
      /** @description Whether more items follow this page: fetch them with starting_after = next. */
      has_more: boolean;
      /** @description The cursor of the following page (pass it as starting_after); null when has_more is false. */
      next: string | null;
      webhooks: components['schemas']['Webhook'][];
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "status": "ok"
           *     }
           */
          'application/json': components['schemas']['Health'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  readiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "status": "ready",
           *       "checks": {
           *         "redis": "ok",
           *         "model": "ok"
           *       }
           *     }
           */
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A dependency is not reachable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "status": "not_ready",
           *       "checks": {
           *         "redis": "unreachable",
           *         "model": "ok"
           *       }
           *     }
           */
          'application/json': components['schemas']['Readiness'];
        };
      };
    };
  };
  scanCommonPoints: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /** @example {} */
        'application/json': components['schemas']['CppScanRequestInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "at": "2026-11-20T06:00:00.000Z",
           *       "scannedFrom": "2026-10-21T06:00:00.000Z",
           *       "truncated": false,
           *       "labelledCards": 44,
           *       "fraudulentCards": 41,
           *       "merchantsTested": 212,
           *       "distinctCards": 180000,
           *       "merchantsPerCard": 6.4,
           *       "suspected": [
           *         {
           *           "merchantId": "shop-77",
           *           "eventId": "ce_12",
           *           "created": true,
           *           "status": "open",
           *           "confidence": "suspected",
           *           "fraudCards": 23,
           *           "expected": 0.41,
           *           "log10PValue": -21.3,
           *           "windowStart": "2026-10-01T09:12:00.000Z",
           *           "windowEnd": "2026-11-02T18:40:00.000Z",
           *           "exposedCards": 1840,
           *           "newlyExposed": 1840
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['CppScanReport'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getModel: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "rf-2026-11-01",
           *       "amountReference": "EUR",
           *       "featureSet": {
           *         "name": "engine",
           *         "version": 3,
           *         "features": [
           *           "card_listed",
           *           "amount_eur"
           *         ]
           *       },
           *       "createdAt": "2026-11-01T00:00:00.000Z",
           *       "trees": 200,
           *       "training": {
           *         "from": "2026-08-01T00:00:00.000Z",
           *         "to": "2026-10-31T00:00:00.000Z",
           *         "rows": 250000,
           *         "frauds": 1900,
           *         "fingerprint": "c2f1e0"
           *       },
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['ModelInfo'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  reloadModel: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "rf-2026-11-01",
           *       "amountReference": "EUR",
           *       "featureSet": {
           *         "name": "engine",
           *         "version": 3,
           *         "features": [
           *           "card_listed",
           *           "amount_eur"
           *         ]
           *       },
           *       "createdAt": "2026-11-01T00:00:00.000Z",
           *       "trees": 200,
           *       "training": {
           *         "from": "2026-08-01T00:00:00.000Z",
           *         "to": "2026-10-31T00:00:00.000Z",
           *         "rows": 250000,
           *         "frauds": 1900,
           *         "fingerprint": "c2f1e0"
           *       },
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['ModelInfo'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Understood, but refused: see the code */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no exchange rate for this currency",
           *       "code": "NO_EXCHANGE_RATE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getRateTable: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "2026-11-20",
           *       "reference": "EUR",
           *       "smallAmount": 500,
           *       "currencies": [
           *         "EUR",
           *         "JPY",
           *         "USD"
           *       ],
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['RatesInfo'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  reloadRateTable: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "2026-11-20",
           *       "reference": "EUR",
           *       "smallAmount": 500,
           *       "currencies": [
           *         "EUR",
           *         "JPY",
           *         "USD"
           *       ],
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['RatesInfo'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Understood, but refused: see the code */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no exchange rate for this currency",
           *       "code": "NO_EXCHANGE_RATE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getRuleset: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "2026-11-01+3f9a1c2e",
           *       "rules": 31,
           *       "merchantOverrides": 2,
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['RulesetInfo'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  reloadRuleset: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "version": "2026-11-01+3f9a1c2e",
           *       "rules": 31,
           *       "merchantOverrides": 2,
           *       "lastReload": null
           *     }
           */
          'application/json': components['schemas']['RulesetInfo'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Understood, but refused: see the code */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no exchange rate for this currency",
           *       "code": "NO_EXCHANGE_RATE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  removeCards: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "cards": [
         *         {
         *           "pan": "4111111111111111"
         *         },
         *         {
         *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk"
         *         }
         *       ]
         *     }
         */
        'application/json': components['schemas']['CardRemovalInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "removed": 1,
           *       "notListed": 0,
           *       "rejected": [
           *         {
           *           "index": 1,
           *           "reason": "pan fails the Luhn check"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['CardRemovalReport'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  lookupCards: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "cards": [
         *         {
         *           "pan": "4111111111111111"
         *         },
         *         {
         *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk"
         *         }
         *       ]
         *     }
         */
        'application/json': components['schemas']['CardLookupInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "cards": [
           *         {
           *           "index": 0,
           *           "card": "411111******1111",
           *           "fingerprint": "Vt0rQ3C2qF1nJcO8yBm4dWkX6zA9hLp5sGeR7uNaT2E",
           *           "listed": true,
           *           "events": [
           *             {
           *               "id": "ce_7",
           *               "externalId": "breach-2026-11",
           *               "issuerId": "bank-a",
           *               "source": "card network alert",
           *               "status": "open",
           *               "confidence": "confirmed",
           *               "dataElements": [
           *                 "pan",
           *                 "expiry",
           *                 "cvv"
           *               ],
           *               "exposureStart": "2026-05-01T00:00:00Z",
           *               "exposureEnd": "2026-10-31T00:00:00Z",
           *               "createdAt": "2026-11-12T08:00:00.000Z"
           *             }
           *           ],
           *           "leakedElements": [
           *             "pan",
           *             "expiry",
           *             "cvv"
           *           ],
           *           "firstListedAt": null
           *         },
           *         {
           *           "index": 1,
           *           "card": null,
           *           "fingerprint": "x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk",
           *           "listed": false,
           *           "events": [],
           *           "leakedElements": [],
           *           "firstListedAt": null
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['CardLookupReport'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listCompromiseEvents: {
    parameters: {
      query?: {
        /** @description Only the event with this externalId. */
        externalId?: string;
        /** @description How many items a page holds at most (1 to 1000, default 100). */
        limit?: number;
        /** @description Continue after this cursor: the `next` of the previous page of compromise events (opaque; another list's cursor is refused). */
        starting_after?: string;
        /** @description Only events in this status. */
        status?: 'open' | 'closed' | 'retracted';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "events": [
           *         {
           *           "id": "ce_7",
           *           "externalId": "breach-2026-11",
           *           "issuerId": "bank-a",
           *           "source": "card network alert",
           *           "description": "payment page skimmer at a processor",
           *           "exposureStart": "2026-05-01T00:00:00Z",
           *           "exposureEnd": "2026-10-31T00:00:00Z",
           *           "discoveredAt": "2026-11-10T00:00:00Z",
           *           "dataElements": [
           *             "pan",
           *             "expiry",
           *             "cvv"
           *           ],
           *           "confidence": "confirmed",
           *           "status": "open",
           *           "createdAt": "2026-11-12T08:00:00.000Z",
           *           "updatedAt": "2026-11-12T08:00:00.000Z",
           *           "statistics": {
           *             "cardsListed": 1250,
           *             "cardsRemoved": 12,
           *             "hits": 3,
           *             "distinctMerchants": 2,
           *             "lastHitAt": "2026-11-20T09:30:00.000Z"
           *           }
           *         }
           *       ],
           *       "has_more": true,
           *       "next": "events_AAAAAAAH"
           *     }
           */
          'application/json': components['schemas']['CompromiseEventPage'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createCompromiseEvent: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "externalId": "breach-2026-11",
         *       "source": "card network alert",
         *       "description": "payment page skimmer at a processor",
         *       "exposureStart": "2026-05-01T00:00:00Z",
         *       "exposureEnd": "2026-10-31T00:00:00Z",
         *       "discoveredAt": "2026-11-10T00:00:00Z",
         *       "dataElements": [
         *         "pan",
         *         "expiry",
         *         "cvv"
         *       ],
         *       "confidence": "confirmed"
         *     }
         */
        'application/json': components['schemas']['NewCompromiseEventInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getCompromiseEvent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  changeCompromiseEvent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "confidence": "confirmed"
         *     }
         */
        'application/json': components['schemas']['CompromiseEventChangeInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  uploadCards: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {"pan": "4111111111111111", "expiryMonth": 12, "expiryYear": 2030}
         *     {"pan": "5555555555554444"}
         */
        'application/x-ndjson': string;
        /**
         * @example pan,expiry_month,expiry_year
         *     4111111111111111,12,2030
         *     5555555555554444
         */
        'text/csv': string;
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "accepted": 2,
           *       "duplicates": 0,
           *       "rejected": 1,
           *       "rejectedByCode": {
           *         "INVALID_CARD": 1
           *       },
           *       "errors": [
           *         {
           *           "line": 3,
           *           "code": "INVALID_CARD",
           *           "reason": "card number fails the Luhn check",
           *           "card": "411111******1112"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['UploadReport'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  closeCompromiseEvent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  retractCompromiseEvent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "ce_7",
           *       "externalId": "breach-2026-11",
           *       "issuerId": "bank-a",
           *       "source": "card network alert",
           *       "description": "payment page skimmer at a processor",
           *       "exposureStart": "2026-05-01T00:00:00Z",
           *       "exposureEnd": "2026-10-31T00:00:00Z",
           *       "discoveredAt": "2026-11-10T00:00:00Z",
           *       "dataElements": [
           *         "pan",
           *         "expiry",
           *         "cvv"
           *       ],
           *       "confidence": "confirmed",
           *       "status": "open",
           *       "createdAt": "2026-11-12T08:00:00.000Z",
           *       "updatedAt": "2026-11-12T08:00:00.000Z",
           *       "statistics": {
           *         "cardsListed": 1250,
           *         "cardsRemoved": 12,
           *         "hits": 3,
           *         "distinctMerchants": 2,
           *         "lastHitAt": "2026-11-20T09:30:00.000Z"
           *       }
           *     }
           */
          'application/json': components['schemas']['CompromiseEvent'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listIssuerHits: {
    parameters: {
      query?: {
        /** @description Only hits answered so (`approve`: the leaked cards that got through). */
        decision?: 'approve' | 'challenge' | 'review' | 'decline';
        eventId?: string;
        /** @description Only hits recorded at or after this time (recordedAt). */
        from?: string;
        /** @description How many items a page holds at most (1 to 1000, default 100). */
        limit?: number;
        /** @description Only hits at this merchant. */
        merchantId?: string;
        /** @description Continue after this cursor: the `next` of the previous page of hits (opaque; another list's cursor is refused). */
        starting_after?: string;
        /** @description Only hits recorded at or before this time (recordedAt). */
        to?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "hits": [
           *         {
           *           "at": "2026-11-20T09:29:58.000Z",
           *           "recordedAt": "2026-11-20T09:30:00.120Z",
           *           "merchantId": "shop-1",
           *           "transactionId": "order-1001",
           *           "amount": 1999,
           *           "currency": "EUR",
           *           "decision": "challenge",
           *           "score": 72,
           *           "card": "411111******1111",
           *           "eventIds": [
           *             "ce_7"
           *           ]
           *         }
           *       ],
           *       "has_more": true,
           *       "next": "hits_AZqfZXqgAAAAAAAA"
           *     }
           */
          'application/json': components['schemas']['HitPage'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listIssuerSuspectedEvents: {
    parameters: {
      query?: {
        /** @description How many items a page holds at most (1 to 1000, default 100). */
        limit?: number;
        /** @description Continue after this cursor: the `next` of the previous page of compromise events (opaque; another list's cursor is refused). */
        starting_after?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "events": [
           *         {
           *           "id": "ce_12",
           *           "merchantId": "shop-77",
           *           "status": "open",
           *           "confidence": "confirmed",
           *           "exposureStart": "2026-10-01T09:12:00.000Z",
           *           "exposureEnd": "2026-11-02T18:40:00.000Z",
           *           "discoveredAt": "2026-11-20T06:00:00.000Z",
           *           "exposedCards": 920
           *         },
           *         {
           *           "id": "ce_15",
           *           "status": "open",
           *           "confidence": "suspected",
           *           "exposureStart": "2026-10-20T00:00:00.000Z",
           *           "exposureEnd": "2026-11-19T00:00:00.000Z",
           *           "discoveredAt": "2026-11-21T06:00:00.000Z",
           *           "exposedCards": 41
           *         }
           *       ],
           *       "has_more": false,
           *       "next": null
           *     }
           */
          'application/json': components['schemas']['IssuerSuspectedEvents'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getBinRanges: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        issuerId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "issuerId": "bank-a",
           *       "ranges": [
           *         {
           *           "from": "411111",
           *           "to": "411199"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['IssuerBinRanges'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  setBinRanges: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        issuerId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example [
         *       {
         *         "from": "411111",
         *         "to": "411199"
         *       }
         *     ]
         */
        'application/json': components['schemas']['BinRangeInput'][];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "issuerId": "bank-a",
           *       "ranges": [
           *         {
           *           "from": "411111",
           *           "to": "411199"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['IssuerBinRanges'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  scoreTransaction: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "transactionId": "order-1001",
         *       "amount": 1999,
         *       "currency": "EUR",
         *       "channel": "ecommerce",
         *       "card": {
         *         "number": "4111111111111111",
         *         "expiryMonth": 12,
         *         "expiryYear": 2030,
         *         "cvvResult": "match"
         *       },
         *       "device": {
         *         "id": "d-42",
         *         "ip": "203.0.113.7"
         *       },
         *       "customer": {
         *         "email": "jane@example.com"
         *       },
         *       "shippingAddress": {
         *         "line1": "1-2-3 Shibuya",
         *         "postalCode": "150-0002",
         *         "city": "Tokyo",
         *         "country": "JP"
         *       }
         *     }
         */
        'application/json': components['schemas']['ScoreRequestInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "transactionId": "order-1001",
           *       "score": 72,
           *       "decision": "challenge",
           *       "reasons": [
           *         {
           *           "code": "LEAKED_CARD",
           *           "message": "Card listed in 1 compromise event(s); the security code did not leak"
           *         }
           *       ],
           *       "ifAuthenticated": "approve",
           *       "checks": {
           *         "velocity": "evaluated",
           *         "rules": "evaluated",
           *         "watchlist": "evaluated",
           *         "model": "evaluated"
           *       },
           *       "degraded": false,
           *       "versions": {
           *         "engine": "0.1.0",
           *         "ruleset": "2026-11-01+3f9a1c2e",
           *         "model": "rf-2026-11-01"
           *       }
           *     }
           */
          'application/json': components['schemas']['ScoreResponse'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Understood, but refused: see the code */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no exchange rate for this currency",
           *       "code": "NO_EXCHANGE_RATE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  reportOutcome: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them). */
        transactionId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "outcome": "authorized"
         *     }
         */
        'application/json': components['schemas']['OutcomeRequestInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "transactionId": "order-1001",
           *       "outcome": "chargeback",
           *       "status": "recorded",
           *       "chargeback": "fraud"
           *     }
           */
          'application/json': components['schemas']['OutcomeResponse'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWebhooks: {
    parameters: {
      query?: {
        /** @description How many items a page holds at most (1 to 1000, default 100). */
        limit?: number;
        /** @description Continue after this cursor: the `next` of the previous page of webhooks (opaque; another list's cursor is refused). */
        starting_after?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "webhooks": [
           *         {
           *           "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
           *           "url": "https://hooks.bank.example/leakguard",
           *           "eventTypes": [
           *             "watchlist.hit"
           *           ],
           *           "description": "fraud desk",
           *           "createdAt": "2026-12-02T10:00:00.000Z",
           *           "previousSecretExpiresAt": null,
           *           "createdByKeyId": "key_3f9a1c07b2e4",
           *           "disabledReason": null
           *         }
           *       ],
           *       "has_more": false,
           *       "next": null
           *     }
           */
          'application/json': components['schemas']['WebhookPage'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "url": "https://hooks.bank.example/leakguard",
         *       "eventTypes": [
         *         "watchlist.hit"
         *       ],
         *       "description": "fraud desk"
         *     }
         */
        'application/json': components['schemas']['NewWebhookInput'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
           *       "url": "https://hooks.bank.example/leakguard",
           *       "eventTypes": [
           *         "watchlist.hit"
           *       ],
           *       "description": "fraud desk",
           *       "createdAt": "2026-12-02T10:00:00.000Z",
           *       "previousSecretExpiresAt": null,
           *       "createdByKeyId": "key_3f9a1c07b2e4",
           *       "disabledReason": null,
           *       "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
           *     }
           */
          'application/json': components['schemas']['CreatedWebhook'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Understood, but refused: see the code */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no exchange rate for this currency",
           *       "code": "NO_EXCHANGE_RATE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
           *       "url": "https://hooks.bank.example/leakguard",
           *       "eventTypes": [
           *         "watchlist.hit"
           *       ],
           *       "description": "fraud desk",
           *       "createdAt": "2026-12-02T10:00:00.000Z",
           *       "previousSecretExpiresAt": null,
           *       "createdByKeyId": "key_3f9a1c07b2e4",
           *       "disabledReason": null
           *     }
           */
          'application/json': components['schemas']['Webhook'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
           *       "deleted": true
           *     }
           */
          'application/json': components['schemas']['DeletedWebhook'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWebhookDeliveries: {
    parameters: {
      query?: {
        /** @description How many items a page holds at most (1 to 200, default 50). */
        limit?: number;
        /** @description Continue after this cursor: the `next` of the previous page of deliveries (opaque; another list's cursor is refused). */
        starting_after?: string;
        /** @description Only deliveries in this status. */
        status?: 'pending' | 'delivered' | 'failed';
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "deliveries": [
           *         {
           *           "id": "dlv_Qm9yZ2V0IGl0LCBpdCdzIGE",
           *           "messageId": "msg_c2lnbmVkIHdlYmhvb2tzIQ",
           *           "eventType": "watchlist.hit",
           *           "status": "pending",
           *           "occurredAt": "2026-12-02T10:00:00.512Z",
           *           "createdAt": "2026-12-02T10:00:01.010Z",
           *           "nextAttemptAt": "2026-12-02T10:00:06.120Z",
           *           "waitingBehind": null,
           *           "completedAt": null,
           *           "resendOf": null,
           *           "data": {
           *             "merchantId": "shop-7",
           *             "transactionId": "order-1001",
           *             "at": "2026-12-02T10:00:00.512Z",
           *             "recordedAt": "2026-12-02T10:00:00.530Z",
           *             "amount": 1999,
           *             "currency": "EUR",
           *             "decision": "challenge",
           *             "score": 62,
           *             "card": {
           *               "bin": "411111",
           *               "last4": "1111"
           *             },
           *             "eventIds": [
           *               "ce_1"
           *             ]
           *           },
           *           "attempts": [
           *             {
           *               "at": "2026-12-02T10:00:01.120Z",
           *               "durationMs": 84,
           *               "statusCode": 503,
           *               "error": "receiver answered 503"
           *             }
           *           ]
           *         }
           *       ],
           *       "has_more": false,
           *       "next": null
           *     }
           */
          'application/json': components['schemas']['WebhookDeliveryPage'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  resendWebhookDelivery: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        deliveryId: string;
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Accepted */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "dlv_Qm9yZ2V0IGl0LCBpdCdzIGE",
           *       "messageId": "msg_c2lnbmVkIHdlYmhvb2tzIQ",
           *       "eventType": "watchlist.hit",
           *       "status": "pending",
           *       "occurredAt": "2026-12-02T10:00:00.512Z",
           *       "createdAt": "2026-12-02T10:00:01.010Z",
           *       "nextAttemptAt": "2026-12-02T10:00:06.120Z",
           *       "waitingBehind": null,
           *       "completedAt": null,
           *       "resendOf": null,
           *       "data": {
           *         "merchantId": "shop-7",
           *         "transactionId": "order-1001",
           *         "at": "2026-12-02T10:00:00.512Z",
           *         "recordedAt": "2026-12-02T10:00:00.530Z",
           *         "amount": 1999,
           *         "currency": "EUR",
           *         "decision": "challenge",
           *         "score": 62,
           *         "card": {
           *           "bin": "411111",
           *           "last4": "1111"
           *         },
           *         "eventIds": [
           *           "ce_1"
           *         ]
           *       },
           *       "attempts": [
           *         {
           *           "at": "2026-12-02T10:00:01.120Z",
           *           "durationMs": 84,
           *           "statusCode": 503,
           *           "error": "receiver answered 503"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['WebhookDelivery'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The state of what the path names does not allow this */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "the event was retracted",
           *       "code": "EVENT_CONFLICT"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  rotateWebhookSecret: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "gracePeriodSeconds": 3600
         *     }
         */
        'application/json': components['schemas']['RotateWebhookSecretInput'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "id": "wh_3q2-7wPd0pN6kQ1sJb0eYw",
           *       "url": "https://hooks.bank.example/leakguard",
           *       "eventTypes": [
           *         "watchlist.hit"
           *       ],
           *       "description": "fraud desk",
           *       "createdAt": "2026-12-02T10:00:00.000Z",
           *       "previousSecretExpiresAt": "2026-12-03T09:00:00.000Z",
           *       "createdByKeyId": "key_3f9a1c07b2e4",
           *       "disabledReason": null,
           *       "secret": "whsec_1Tq9c2pVw0yG0wq3r7XyL3ZkS2mV6hB4tR8nD5fJ"
           *     }
           */
          'application/json': components['schemas']['RotatedWebhook'];
        };
      };
      /** @description A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "invalid request",
           *       "code": "VALIDATION_FAILED",
           *       "details": [
           *         {
           *           "path": "querystring.limit",
           *           "message": "Too small: expected number to be >=1"
           *         }
           *       ]
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer) */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "missing or invalid API key",
           *       "code": "UNAUTHENTICATED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The API key is valid but its role may not do this (FORBIDDEN) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "this route needs the issuer or admin role",
           *       "code": "FORBIDDEN"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description What the path names does not exist (or is another tenant’s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "no such compromise event",
           *       "code": "EVENT_NOT_FOUND"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is larger than the limit (PAYLOAD_TOO_LARGE) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "request body too large",
           *       "code": "PAYLOAD_TOO_LARGE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is too long (URI_TOO_LONG) */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "a path parameter is too long",
           *       "code": "URI_TOO_LONG"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "unsupported content type: send application/json",
           *       "code": "UNSUPPORTED_MEDIA_TYPE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After) */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "rate limit exceeded: slow down and retry later",
           *       "code": "RATE_LIMITED"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "error": "authentication temporarily unavailable: retry",
           *       "code": "AUTH_UNAVAILABLE"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
}
