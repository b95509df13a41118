// Documented ingest limits (see docs/ingest.md). They protect the events log and
// the database: an id longer than MAX_ID_LENGTH would not fit a btree index entry.

/** Per event: UTF-8 bytes of the event's JSON, as received. */
export const MAX_EVENT_BYTES = 32 * 1024
/** Per request, after gzip decompression. */
export const MAX_REQUEST_BYTES = 500 * 1024
/**
 * Objects and arrays may nest this deep inside any top-level field of an event,
 * counting the field itself: `properties: { a: { b: 1 } }` is 2 levels deep.
 */
export const MAX_NESTING_DEPTH = 16
/** userId, anonymousId, messageId, groupId, previousId, and event/page/screen names. */
export const MAX_ID_LENGTH = 512
