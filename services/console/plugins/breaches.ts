// Breach discovery's analyst side (docs/breach-discovery.md): the suspected points of compromise,
// each with its evidence; a lead confirms one (its confidence becomes confirmed: scoring and the
// issuers' webhooks see it) or dismisses it (retracted: the exposure is lifted at once). Audited.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { caseQuerySchema, deepestPage, MAX_QUEUE_ROWS, servedPage } from '../../cases/model.ts';
import { issueLines } from '../../core/errors.ts';
import { CPP_ISSUER, EventConflict, eventSeqOf, type CompromiseEvent, type EventPatch } from '../../core/watchlist.ts';
import { breachPage, breachesPage } from '../views/breaches.ts';
import { caseSystem, doneNotice, refuse, sendPage, type ConsoleOptions } from './shared.ts';

const idParam = z.object({ id: z.string().regex(/^ce_[1-9][0-9]{0,9}$/, 'must be a compromise event id') });
const reviewBody = z.object({ decision: z.enum(['confirm', 'dismiss']) });
// Paged as the queue is: the same parameters, bounds and defaults.
const pageQuery = caseQuerySchema.pick({ page: true, pageSize: true });
// A Map: ?done= is the client's, and must not reach Object.prototype (?done=constructor).
const NOTICES = new Map<string, string>(
  Object.entries({
    confirmed: 'Confirmed: the breach is treated as real.',
    dismissed: 'Dismissed: its cards are no longer stepped up.',
  }),
);

export async function breachRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const analyst = app.requireConsoleRole('analyst');
  const lead = app.requireConsoleRole('lead');

  /** Leakguard's own event with that id; undefined for another issuer's (not shown here). */
  const suspected = async (id: string): Promise<CompromiseEvent | undefined> => {
    const event = await o.watchlist.getEvent(eventSeqOf(id)!);
    return event?.issuerId === CPP_ISSUER && event.evidence ? event : undefined;
  };

  app.get('/breaches', { preHandler: analyst }, async (request, reply) => {
    const parsed = pageQuery.safeParse(request.query ?? {});
    if (!parsed.success)
      return refuse(
        request,
        reply,
        'VALIDATION_FAILED',
        `Invalid page: ${issueLines(parsed.error, { root: '' }).join('; ')}`,
      );
    const asked = parsed.data;
    const events = (await o.watchlist.listEvents(CPP_ISSUER))
      .filter((e) => e.evidence)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.seq - a.seq));
    // As the queue: past the last page the last one, past MAX_QUEUE_ROWS the deepest one (with a notice).
    const page = servedPage(asked.page, asked.pageSize, events.length);
    const q = { page, pageSize: asked.pageSize };
    const notice =
      asked.page > page && page === deepestPage(q.pageSize)
        ? `Page ${asked.page} is beyond the first ${MAX_QUEUE_ROWS.toLocaleString('en')} events, which is as deep as the list pages: this is page ${page}.`
        : undefined;
    const items = events.slice((page - 1) * q.pageSize, page * q.pageSize);
    return sendPage(
      reply,
      200,
      'Suspected breaches',
      breachesPage(q, { items, total: events.length }, notice),
      request.consoleSession,
    );
  });

  app.get('/breaches/:id', { preHandler: analyst }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const event = await suspected(id);
    if (!event) return refuse(request, reply, 'EVENT_NOT_FOUND', 'No such suspected breach.');
    const notice = doneNotice(NOTICES, request.query);
    return sendPage(
      reply,
      200,
      `Suspected breach ${id}`,
      breachPage(event, await o.watchlist.eventStatistics(event.seq), request.consoleSession!, notice),
      request.consoleSession,
    );
  });

  app.post('/breaches/:id/review', { preHandler: lead }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const { decision } = reviewBody.parse(request.body ?? {});
    const s = caseSystem(o, reply);
    if (!s) return reply;
    const event = await suspected(id);
    if (!event) return refuse(request, reply, 'EVENT_NOT_FOUND', 'No such suspected breach.');
    const session = request.consoleSession!;
    const review = {
      decision: decision === 'confirm' ? ('confirmed' as const) : ('dismissed' as const),
      by: session.username,
      at: new Date(now()).toISOString(),
    };
    // Checked as the review is written: two leads at once, or a scan's new evidence meanwhile,
    // must not each win in turn (the store applies it atomically).
    const reviewOf = (current: CompromiseEvent): EventPatch => {
      if (current.status !== 'open' || current.evidence?.review) throw new EventConflict('reviewed already');
      return {
        evidence: { ...current.evidence!, review },
        ...(decision === 'confirm' ? { confidence: 'confirmed' as const } : { status: 'retracted' as const }),
      };
    };
    let updated: CompromiseEvent;
    try {
      updated = (await o.watchlist.updateEvent(event.seq, reviewOf, new Date(now())))!;
    } catch (error) {
      if (error instanceof EventConflict)
        return refuse(request, reply, 'EVENT_CONFLICT', 'This suspected breach was reviewed already.');
      throw error;
    }
    // This engine's scoring sees it at once; the others at their next refresh.
    o.eventChanged?.(updated);
    await s.audit.append({
      actor: session.username,
      action: 'breach_review',
      target: `event:${id}`,
      detail: { decision: review.decision, merchantId: event.evidence!.merchantId },
    });
    return reply.redirect(`/console/breaches/${id}?done=${review.decision}`, 303);
  });
}
