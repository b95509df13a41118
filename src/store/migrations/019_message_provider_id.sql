-- Delivery reports (SMS status callbacks) find their message by the provider's id.
CREATE INDEX messages_provider_id_idx ON messages (workspace_id, provider_id) WHERE provider_id IS NOT NULL;
