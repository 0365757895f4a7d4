// API keys for the embedded mode: one JSON file (mode 0600) under the state directory.
// Re-read when it changes on disk, so that the keys CLI takes effect on a running engine.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { apiKeyRecordSchema, type ApiKeyRecord, type ApiKeyStore } from '../../auth/api-keys.ts';

const fileSchema = z.object({ keys: z.array(apiKeyRecordSchema) });

export class FileApiKeyStore implements ApiKeyStore {
  private records: ApiKeyRecord[] = [];
  private loadedMtime = -1;

  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  private load(): ApiKeyRecord[] {
    if (!existsSync(this.path)) return (this.records = []);
    const mtime = statSync(this.path).mtimeMs;
    if (mtime !== this.loadedMtime) {
      this.records = fileSchema.parse(JSON.parse(readFileSync(this.path, 'utf8'))).keys;
      this.loadedMtime = mtime;
    }
    return this.records;
  }

  private save(records: ApiKeyRecord[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ keys: records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.records = records;
    this.loadedMtime = statSync(this.path).mtimeMs;
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    this.save([...this.load(), record]);
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.load().find((r) => r.hash === hash);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.load()];
  }

  async revoke(id: string, at: string, by?: string): Promise<boolean> {
    const records = this.load();
    const found = records.find((r) => r.id === id);
    if (!found) return false;
    this.save(
      records.map((r) => (r.id === id && !r.revokedAt ? { ...r, revokedAt: at, ...(by ? { revokedBy: by } : {}) } : r)),
    );
    return true;
  }
}
