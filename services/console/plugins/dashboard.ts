// The dashboard: 30 days of cases, decisions and reasons, and the friction each merchant spends.
import type { FastifyInstance } from 'fastify';
import { dashboardPage } from '../views/dashboard.ts';
import { sendPage, type ConsoleOptions } from './shared.ts';

const DAYS = 30;

export async function dashboardRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  app.get('/dashboard', { preHandler: app.requireConsoleRole('analyst') }, async (request, reply) => {
    const stats = await o.system()!.store.stats(DAYS);
    return sendPage(reply, 200, 'Dashboard', dashboardPage(stats, DAYS, o.friction?.() ?? []), request.consoleSession);
  });
}
