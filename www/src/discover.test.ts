// discover.test.ts - the import request the Discover page sends.
import { describe, expect, it } from 'vitest';
import { importBody, type TsDevice } from './Discover';

const dev = (id: string, imported: string | null = null): TsDevice => ({
  node_id: id, name: `${id}.ts.net`, hostname: id, tailscale_ip: '100.64.0.1', addresses: ['100.64.0.1'],
  os: 'linux', online: true, last_seen: null, tags: [], key_expiry: null, imported_as: imported,
  suggested_server_id: imported ? null : id, suggested_machine_type: 'server',
});

describe('importBody', () => {
  it('sends the selected, not yet imported devices with only the overrides set', () => {
    const devs = [dev('a'), dev('b', 'b'), dev('c')];
    expect(importBody(devs, new Set(['a', 'b']), '', ' ', '')).toEqual({ devices: [{ node_id: 'a' }] });
    expect(importBody(devs, new Set(['a', 'c']), 'workstation', 'admin', '2222')).toEqual({
      devices: [{ node_id: 'a', machine_type: 'workstation', ssh_user: 'admin', ssh_port: 2222 },
        { node_id: 'c', machine_type: 'workstation', ssh_user: 'admin', ssh_port: 2222 }],
    });
  });
});
