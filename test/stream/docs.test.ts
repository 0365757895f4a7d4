// docs/stream-messages.md stays in step with the code: every setting, dead-letter reason and
// metric of the stream processor is documented there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { streamConfigSchema } from '../../streams/config.ts';
import { DEAD_LETTER_REASONS } from '../../streams/messages.ts';
import { prepare } from '../../streams/processor/outcomes.ts';
import { StreamMetrics } from '../../streams/metrics.ts';

const doc = readFileSync(new URL('../../docs/stream-messages.md', import.meta.url), 'utf8');

describe('docs/stream-messages.md', () => {
  it('documents every stream setting', () => {
    for (const name of Object.keys(streamConfigSchema.shape)) expect(doc, name).toContain(`\`${name}\``);
  });

  it('documents every dead-letter reason', () => {
    for (const reason of DEAD_LETTER_REASONS) expect(doc, reason).toContain(`\`${reason}\``);
  });

  it('says what a degraded decision in allow mode leaves behind, as test/core/engine.test.ts shows it', () => {
    const section = doc.slice(doc.indexOf('- **Redis unreachable.**'), doc.indexOf('- **Redis full**'));
    expect(section).not.toContain('counters not updated');
    // Redis slow: counted all the same; the redelivery's decision is another one, replayed.
    expect(section).toMatch(/only slow[^]*counted[^]*`degraded: false`, `replayed: true`/);
    // Redis refusing: nothing counted; the redelivery is new.
    expect(section).toMatch(/refused[^]*nothing was counted[^]*`replayed: false`/);
  });

  it('documents every stream metric', async () => {
    const names = (await new StreamMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(doc, name).toContain(`\`${name}`);
  });

  it("says what the crash counter's restart label means: both values go on consuming", async () => {
    const [crashes] = (await new StreamMetrics().registry.getMetricsAsJSON()).filter(
      (m) => m.name === 'leakguard_stream_consumer_crashes_total',
    );
    expect(crashes!.help).toMatch(/false: the processor then builds a new consumer/);
    expect(doc).toMatch(/`restart="false"`, the client gave up[^|]*the processor builds a new consumer/);
  });

  /** The JSON examples of the document, parsed. */
  const examples = () =>
    [...doc.matchAll(/```json\n([^]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

  it("shows a decision's reason as the default ruleset words it", () => {
    const rules = (parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')) as { rules: { code: string; message: string }[] })
      .rules;
    const decision = examples().find((e) => 'decision' in e)!;
    const reasons = decision.reasons as { code: string; message: string }[];
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) {
      const template = rules.find((r) => r.code === reason.code)!.message;
      const words = template.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
      expect(reason.message).toMatch(new RegExp(`^${words.join('\\d+')}$`));
    }
  });

  it('shows a dead letter as the processor makes it for its payload', () => {
    const example = examples().find((e) => e.reason === 'schema_violation')!;
    // The payload the example masks, with the card number and the code it removed.
    const payload = example.payload as { card: Record<string, unknown> };
    const input = { ...payload, card: { ...payload.card, number: '4111111111111112', cvv: '123' } };
    const prepared = prepare('leakguard.transactions', 5, {
      offset: '77',
      timestamp: '0',
      key: null,
      value: Buffer.from(JSON.stringify(input)),
    });
    if (prepared.kind !== 'dead' || prepared.outcome.kind !== 'dead') throw new Error('expected a dead letter');
    const letter = JSON.parse(prepared.outcome.value) as Record<string, unknown>;
    expect(example.details).toEqual(letter.details);
    expect(example.payload).toEqual(letter.payload);
  });
});
