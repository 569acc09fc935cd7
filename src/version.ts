// hopwatch's own version, read once from package.json (tsc copies it next to dist/src).

import pkg from '../package.json' with { type: 'json' };

/** The version in package.json. */
export const VERSION: string = pkg.version;

/** The User-Agent every probe sends, so targets can tell hopwatch's traffic apart in their logs. */
export const USER_AGENT = `hopwatch/${VERSION}`;
