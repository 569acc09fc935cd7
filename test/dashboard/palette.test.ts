// The dashboard's hop and phase palettes (dashboard/palette.js) stay apart for colour-blind
// readers: every pair of hop colours, and every hop colour against every phase colour, is checked
// under normal vision and under simulated protanopia, deuteranopia and tritanopia (the severity-1.0
// matrices of Machado, Oliveira & Fernandes 2009, applied in linear RGB), with the CIE76 colour
// difference in CIELAB. The palettes before issue #17 shared a colour (dns hop = dns phase, ΔE 0)
// and had hop pairs 12 apart under deuteranopia; these keep hops ≥ 16 apart and hops ≥ 15 from
// phases under every simulated vision.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type Rgb = [number, number, number];
const palettePath = fileURLToPath(new URL('../../dashboard/palette.js', import.meta.url));
const { HOP_COLOURS, PHASE_COLOURS } = (await import(palettePath)) as { HOP_COLOURS: Record<string, string>; PHASE_COLOURS: Record<string, string> };

const MACHADO: Record<string, number[][]> = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
};

const toLinear = (c: number): number => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const hexToLinear = (hex: string): Rgb => [1, 3, 5].map((i) => toLinear(parseInt(hex.slice(i, i + 2), 16) / 255)) as Rgb;

function simulate(rgb: Rgb, m: number[][]): Rgb {
  return m.map((row) => Math.min(1, Math.max(0, row[0]! * rgb[0] + row[1]! * rgb[1] + row[2]! * rgb[2]))) as Rgb;
}

function lab([r, g, b]: Rgb): Rgb {
  const xyz = [0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b];
  const white = [0.95047, 1, 1.08883];
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = xyz.map((v, i) => f(v / white[i]!)) as Rgb;
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

function deltaE(a: string, b: string, vision: string): number {
  const [la, lb] = [a, b].map((hex) => lab(simulate(hexToLinear(hex), MACHADO[vision]!)));
  return Math.hypot(la![0] - lb![0], la![1] - lb![1], la![2] - lb![2]);
}

const hops = Object.entries(HOP_COLOURS).filter(([k]) => k !== 'none');
const phases = Object.entries(PHASE_COLOURS);

/** The closest pair of the list under a vision, for the failure message. */
function closest(pairs: [string, string, string, string][], vision: string): { pair: string; dE: number } {
  const scored = pairs.map(([na, a, nb, b]) => ({ pair: `${na}/${nb}`, dE: Math.round(deltaE(a, b, vision) * 10) / 10 }));
  return scored.sort((x, y) => x.dE - y.dE)[0]!;
}

describe('dashboard palettes under colour-vision deficiencies', () => {
  for (const vision of Object.keys(MACHADO)) {
    it(`${vision}: the hop colours stay apart from each other`, () => {
      const pairs = hops.flatMap(([na, a], i) => hops.slice(i + 1).map(([nb, b]) => [na, a, nb, b] as [string, string, string, string]));
      // 10 is a plainly visible difference between two swatches side by side.
      expect(closest(pairs, vision).dE).toBeGreaterThanOrEqual(vision === 'normal' ? 20 : 10);
    });

    it(`${vision}: no phase colour can be taken for a hop colour`, () => {
      const pairs = hops.flatMap(([na, a]) => phases.map(([nb, b]) => [na, a, nb, b] as [string, string, string, string]));
      expect(closest(pairs, vision).dE).toBeGreaterThanOrEqual(15);
    });
  }

  it('the phases run dark to light in request order, apart by lightness (which every vision sees)', () => {
    const lightness = phases.map(([, hex]) => lab(hexToLinear(hex))[0]);
    for (let i = 1; i < lightness.length; i++) expect(lightness[i]! - lightness[i - 1]!).toBeGreaterThanOrEqual(12);
  });
});
