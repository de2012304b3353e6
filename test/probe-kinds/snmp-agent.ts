// The SNMP agent the tests talk to is the demo's simulated device agent: one implementation.
export {
  startAgent,
  closedUdpPort,
  SENTINEL_OID,
  type AgentValue,
  type AgentValueType,
  type AgentUser,
  type StartAgentOptions,
  type SnmpAgent as TestAgent,
} from '../../src/demo/snmp-agent.js';
