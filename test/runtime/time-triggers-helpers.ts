// Publishes a journey written in the test (the world publishes example files).
import { JourneySchema } from '../../src/domain/journeys/schema.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import type { World } from '../helpers/world.ts'

export async function publishJourney(world: World, definition: Record<string, unknown>): Promise<void> {
  const journey = JourneySchema.parse(definition)
  const doc = JSON.parse(JSON.stringify(journey))
  await world.db.transaction((tx) => applyJourney(tx, 'default', doc, { publish: true }))
  world.workers.catalog.invalidate()
}
