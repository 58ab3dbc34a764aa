import { rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/runtime.js';
import { startInstance } from '../helpers/runtime.js';

describe('first start', () => {
  it('creates the operator, a 0600 key and pepper, and one bootstrap token only once', async () => {
    const inst = await startInstance();
    expect(inst.bootstrap.token.scopes).toEqual(['pull', 'push', 'admin:*:*']);
    expect(inst.runtime.operator.isOperator).toBe(true);
    expect(statSync(join(inst.dataDir, 'pepper')).mode & 0o777).toBe(0o600);
    expect(inst.runtime.keys.all()).toHaveLength(1);
    expect(inst.runtime.keys.all()[0]!.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const config = loadConfig({ env: {}, flags: { data_dir: inst.dataDir } });
    await inst.runtime.close();
    const again = await openRuntime(config, { initialize: true });
    expect(again.created).toBeUndefined();
    expect(again.runtime.operator.id).toBe(inst.runtime.operator.id);
    await again.runtime.close();
    rmSync(inst.dataDir, { recursive: true, force: true });
  });

  it('refuses to start when the pepper is lost but the database has tokens', async () => {
    const inst = await startInstance();
    await inst.runtime.close();
    unlinkSync(join(inst.dataDir, 'pepper'));
    const config = loadConfig({ env: {}, flags: { data_dir: inst.dataDir } });
    await expect(openRuntime(config, { initialize: true })).rejects.toThrow(/pepper is missing.*restore/);
    rmSync(inst.dataDir, { recursive: true, force: true });
  });
});
