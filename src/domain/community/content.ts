// What counts as content a member created, for the top contributors by content. The
// same names are summed by migration 020's backfill of profile_content_counts.
export const CONTENT_EVENTS: readonly string[] = ['Topic Created', 'Post Created', 'Content Published']
