// The one catalogue of error codes. A code is never reused for another meaning.

export const errorCatalogue = {
  NUDGE_ERR_UNAUTHORIZED: { status: 401, message: 'A valid key is required' },
  NUDGE_ERR_FORBIDDEN: { status: 403, message: 'This key may not do that' },
  NUDGE_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  NUDGE_ERR_BAD_SIGNATURE: {
    status: 403,
    message: 'The request signature does not match; sign it with the workspace provider token',
  },
  NUDGE_ERR_INVALID_JSON: { status: 400, message: 'The body is not valid JSON' },
  NUDGE_ERR_INVALID_ENCODING: { status: 400, message: 'The body could not be decoded' },
  NUDGE_ERR_VALIDATION: { status: 400, message: 'The input is invalid' },
  NUDGE_ERR_EVENT_TOO_LARGE: { status: 413, message: 'An event is larger than 32 KB' },
  NUDGE_ERR_BATCH_TOO_LARGE: { status: 413, message: 'The request is larger than 500 KB' },
  NUDGE_ERR_UNSUPPORTED_MEDIA: { status: 415, message: 'Send JSON (application/json)' },
  NUDGE_ERR_CONFIG: { status: 500, message: 'The configuration is invalid' },
  NUDGE_ERR_UNAVAILABLE: { status: 503, message: 'Not ready' },
  NUDGE_ERR_LAST_ADMIN_KEY: {
    status: 409,
    message: 'This is the last active admin key of the workspace; create another one before revoking it',
  },
  NUDGE_ERR_DATABASE_IN_USE: {
    status: 409,
    message: 'The embedded database is open in another process; stop it or go through its API',
  },
  NUDGE_ERR_WRITE_KEY_REQUIRED: {
    status: 401,
    message: 'A valid write key is required: send it as the HTTP Basic user, or as writeKey in the body',
  },
  NUDGE_ERR_INGEST_BUSY: {
    status: 503,
    message: 'Too many events are waiting to be stored; retry in a moment (nothing was stored)',
  },
  NUDGE_ERR_INGEST_WRITE_FAILED: {
    status: 503,
    message: 'The events could not be stored; retry (nothing was acknowledged)',
  },
  NUDGE_ERR_JOURNEY_INVALID: {
    status: 400,
    message: 'The journey document is invalid; nothing was stored. Fix every issue listed and send it again',
  },
  NUDGE_ERR_TEMPLATE_INVALID: {
    status: 400,
    message: 'The template is invalid; nothing was stored. Fix every issue listed and send it again',
  },
  NUDGE_ERR_JOURNEY_STATE: {
    status: 409,
    message: 'The journey is not in a state that allows this',
  },
  NUDGE_ERR_SEGMENT_IN_USE: {
    status: 409,
    message: 'Other segments are built on this segment; change or delete them first',
  },
} as const

export type ErrorCode = keyof typeof errorCatalogue

export interface ErrorIssue {
  /** Where the problem is, e.g. "batch[3].properties.price" */
  readonly path: string
  readonly message: string
  /** What to do about it, when we know. */
  readonly hint?: string
}

export class NudgeError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly issues: readonly ErrorIssue[]
  constructor(code: ErrorCode, message?: string, issues: readonly ErrorIssue[] = []) {
    super(message ?? errorCatalogue[code].message)
    this.name = 'NudgeError'
    this.code = code
    this.status = errorCatalogue[code].status
    this.issues = issues
  }
  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.issues.length ? { issues: this.issues } : {}),
      },
    }
  }
}
