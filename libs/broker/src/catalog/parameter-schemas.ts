/**
 * The JSON schemas (draft 4) of the provisioning and binding parameters, as the catalog
 * publishes them. The API's request DTOs accept exactly these.
 */
export const INSTANCE_PARAMETERS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    name: {
      type: 'string',
      maxLength: 200,
      description:
        'Database name, normalized like the dbaas API does (default: osb_ and 32 hex digits of the instance id).',
    },
    team: {
      type: 'integer',
      minimum: 1,
      description: 'dbaas team id; required when the broker user is in several teams.',
    },
    project: { type: 'integer', minimum: 1, description: 'dbaas project id.' },
    description: { type: 'string', maxLength: 1000, description: 'Description of the database.' },
  },
};

/** What an update (PATCH of an instance) may change besides the plan. */
export const INSTANCE_UPDATE_PARAMETERS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string', maxLength: 1000, description: 'Description of the database.' },
    tags: {
      type: 'array',
      maxItems: 20,
      items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.:-]{0,62}$' },
      description: 'Replaces every tag of the database.',
    },
    is_protected: {
      type: 'boolean',
      description: 'While true, deprovisioning is refused (422).',
    },
  },
};

export const BINDING_PARAMETERS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    privileges: {
      type: 'string',
      enum: ['owner', 'read-write', 'read-only'],
      default: 'owner',
      description: 'What the bound credential may do.',
    },
  },
};
