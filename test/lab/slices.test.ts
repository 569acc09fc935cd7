// The lab's EndpointSlices: one per distinct set of port numbers (as the EndpointSlice controller
// writes them), and hand-written ones for Services without selector.

import { describe, expect, it } from 'vitest';
import { endpointSliceObjects, type LabPodState, manualSliceObject } from './objects.js';

function pod(name: string, ip: string, port: number, labels: Record<string, string> = { app: 'web' }): LabPodState {
  return { namespace: 'shop', name, app: 'web', ip, port, portName: 'web', labels, fault: { mode: 'healthy' }, templateHash: 'h', readinessProbe: false, restarts: 0, terminating: false };
}

describe('endpointSliceObjects', () => {
  it('puts pods whose named targetPort maps to another number in a slice of their own', () => {
    const slices = endpointSliceObjects({ namespace: 'shop', name: 'web', ports: [{ name: 'api', port: 80, targetPort: 'web' }] }, [
      pod('web-0', '127.9.1.1', 9091),
      pod('web-1', '127.9.1.2', 9092),
      pod('web-2', '127.9.1.3', 9091),
    ]);
    const summary = slices.map((s) => ({
      name: (s.metadata as { name: string }).name,
      ports: (s.ports as { port: number }[]).map((p) => p.port),
      addresses: (s.endpoints as { addresses: string[] }[]).map((e) => e.addresses[0]),
    }));
    expect(summary).toEqual([
      { name: 'web-lab', ports: [9091], addresses: ['127.9.1.1', '127.9.1.3'] },
      { name: 'web-lab-9092', ports: [9092], addresses: ['127.9.1.2'] },
    ]);
  });

  it('writes one empty slice when no pod is selected', () => {
    const slices = endpointSliceObjects({ namespace: 'shop', name: 'web' }, [pod('x', '127.9.1.1', 8080, { app: 'other' })]);
    expect(slices).toHaveLength(1);
    expect(slices[0]).toMatchObject({ endpoints: [], ports: [] });
  });
});

describe('manualSliceObject', () => {
  it('lists the app\'s pod addresses as written, without targetRef, ports as written (a name may be left out)', () => {
    const slice = manualSliceObject({ namespace: 'shop', name: 'legacy-by-hand', service: 'legacy', ports: [{ port: 9300 }], app: 'web' }, [pod('web-0', '127.9.1.1', 9300)]);
    expect(slice).toMatchObject({
      metadata: { name: 'legacy-by-hand', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'legacy' } },
      ports: [{ port: 9300, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.9.1.1'], conditions: { ready: true } }],
    });
    expect((slice.ports as object[])[0]).not.toHaveProperty('name');
    expect((slice.endpoints as object[])[0]).not.toHaveProperty('targetRef');
  });
});
