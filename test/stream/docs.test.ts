// docs/stream-messages.md stays in step with the code: every setting, dead-letter reason and
// metric of the stream processor is documented there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { streamConfigSchema } from '../../streams/config.ts';
import { DEAD_LETTER_REASONS } from '../../streams/messages.ts';
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
});
