export const GATEWAY_CONFIG = 'GATEWAY_CONFIG';
/** The gateway's topic names (`GatewayTopics`), derived once from the configuration. */
export const GATEWAY_TOPICS = 'GATEWAY_TOPICS';
