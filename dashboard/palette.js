// The dashboard's two palettes, kept apart so a colour never means both a hop and a phase.
//
// Hops: the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), eight colours chosen
// to stay apart for protan, deutan and tritan colour vision; seven of them name the seven places a
// failure can start, grey is "none". Phases: a neutral grey ramp, dark to light in request order
// (dns, connect, tls, ttfb, body): they differ in lightness only, which every colour vision sees,
// and being grey they cannot be taken for a hop. test/dashboard/palette.test.ts checks both under
// simulated colour-vision deficiencies (Machado et al. 2009).

/** Hop colours (Okabe-Ito). */
export const HOP_COLOURS = {
  dns: '#cc79a7', // reddish purple
  edge: '#56b4e9', // sky blue
  controller: '#0072b2', // blue
  service: '#f0e442', // yellow
  pod: '#d55e00', // vermillion
  config: '#e69f00', // orange
  network: '#009e73', // bluish green
  none: '#7c8591',
};

/** Phase colours of the round waterfall (a grey ramp in request order); the time until an error is hatched, not coloured. */
export const PHASE_COLOURS = {
  dns: '#000000',
  connect: '#333333',
  tls: '#5e5e5e',
  wait: '#bdbdbd',
  body: '#e0e0e0',
};
