// Errors of the store. Failures of probed routes are data; these are bugs,
// bad configuration, bad queries and unreadable files.

/** Stable codes of store errors. */
export type StoreErrorCode =
  | 'SCHEMA_TOO_NEW' // the database was migrated by a newer hopwatch than this binary
  | 'SCHEMA_OUTDATED' // a read-only open found migrations not yet applied
  | 'MIGRATIONS_NOT_FOUND' // no migrations directory beside the package
  | 'BAD_MIGRATION' // a migration file is misnamed or duplicated
  | 'MIGRATION_FAILED' // a migration's SQL failed (rolled back)
  | 'BAD_QUERY' // a query's arguments are invalid
  | 'BAD_CURSOR' // a pagination cursor was not produced by this store
  | 'NOT_FOUND' // the named row does not exist
  | 'CORRUPT'; // stored data cannot be decoded

/** An error of the store, with a stable code and the underlying cause when there is one. */
export class StoreError extends Error {
  /** Stable code. */
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
