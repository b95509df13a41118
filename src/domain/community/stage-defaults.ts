// The default funnel: the six stages every community goes through (discovery to
// evangelism). Criteria use the event names of the default score table; docs/community.md
// explains each choice. A workspace replaces the whole list with its own file.
import type { Condition } from '../conditions/types.ts'
import type { StageConfig } from './stage-config.ts'

const did = (event: string, min = 1, within?: string): Condition =>
  within === undefined ? { type: 'performed', event, min } : { type: 'performed', event, within, min }

const didNot = (event: string, within: string): Condition => ({ type: 'performed', event, within, max: 0 })

export const DEFAULT_STAGE_CONFIG: StageConfig = {
  stages: [
    {
      // Anyone Nudge has seen: a profile exists because it did something.
      id: 'visitor',
      name: 'Visitor',
      criteria: { type: 'all', conditions: [] },
      stuck_after: '30d',
    },
    {
      // Showed interest: left an email, subscribed, or registered for a webinar.
      id: 'prospect',
      name: 'Prospect',
      criteria: {
        type: 'any',
        conditions: [
          { type: 'trait', path: 'email', op: 'exists' },
          did('Newsletter Subscribed'),
          did('Webinar Registered'),
        ],
      },
      stuck_after: '30d',
    },
    {
      // Joined the community.
      id: 'member',
      name: 'Member',
      criteria: did('Signed Up'),
      stuck_after: '14d',
    },
    {
      // Contributes: a topic, or a few replies, in the last 30 days.
      id: 'active_member',
      name: 'Active member',
      criteria: { type: 'any', conditions: [did('Topic Created', 1, '30d'), did('Post Created', 3, '30d')] },
      stuck_after: '90d',
      demotion: {
        when: { type: 'all', conditions: [didNot('Topic Created', '60d'), didNot('Post Created', '60d')] },
        grace: '14d',
      },
    },
    {
      // Proactive: a high engagement score and leads something (an event, content, invitations).
      id: 'ambassador',
      name: 'Ambassador',
      criteria: {
        type: 'all',
        conditions: [
          { type: 'score', op: 'gte', value: 100 },
          {
            type: 'any',
            conditions: [
              did('Event Organized', 1, '90d'),
              did('Content Published', 1, '90d'),
              did('Member Invited', 3, '90d'),
            ],
          },
        ],
      },
      stuck_after: '180d',
      demotion: { when: { type: 'score', op: 'lt', value: 25 }, grace: '30d' },
    },
    {
      // Takes responsibilities: given a community role, or sustains leadership over months.
      id: 'evangelist',
      name: 'Evangelist',
      criteria: {
        type: 'any',
        conditions: [
          { type: 'trait', path: 'community_role', op: 'in', value: ['moderator', 'leader', 'organizer'] },
          {
            type: 'all',
            conditions: [{ type: 'score', op: 'gte', value: 200 }, did('Event Organized', 3, '180d')],
          },
        ],
      },
      demotion: {
        // A named role keeps the stage; otherwise a long silence demotes.
        when: {
          type: 'all',
          conditions: [
            { type: 'score', op: 'lt', value: 25 },
            {
              type: 'not',
              condition: {
                type: 'trait',
                path: 'community_role',
                op: 'in',
                value: ['moderator', 'leader', 'organizer'],
              },
            },
          ],
        },
        grace: '60d',
      },
    },
  ],
}
