Feature: Preferred servers and placement of starting and restarted guests
  Auto (the default) places a guest on the available server with the most
  resources; Manual on the preferred server with the most resources.
  Failed or shut-down servers are never chosen.

  @rule:PLACE-AUTO-DEFAULT @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @release:2.2
  Scenario: A guest created without a preferred server gets Auto and starts on the server with most free memory
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles              | memory MB |
      | server1 | master, utility, vm | 8192     |
      | server2 | vm                 | 16384     |
      | server3 | vm                 | 32768     |
    And a guest vm1 with HA enabled
    Then guest vm1 has the Auto preferred-server policy
    When guest vm1 is started
    Then the operation succeeds
    And guest vm1 is running on server3

  @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @release:2.2
  Scenario Outline: Auto starts a guest on the available server with the most free memory
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | <memory 1> |
      | server2 | vm                  | <memory 2> |
      | server3 | vm                  | <memory 3> |
    And a guest vm1 with HA enabled
    When guest vm1 is started
    Then guest vm1 is running on <chosen>

    Examples:
      | memory 1 | memory 2 | memory 3 | chosen  |
      | 8192     | 16384    | 32768    | server3 |
      | 32768    | 16384    | 8192     | server1 |
      | 8192     | 32768    | 16384    | server2 |
      | 16384    | 16384    | 8192     | server1 |

  @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @release:2.2
  Scenario: Auto spreads guests by the memory left free by the guests already running
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 8192 MB of memory per server
    And a guest vm1 of 4096 MB with HA enabled running on server1
    And a guest vm2 of 2048 MB with HA enabled running on server2
    And a guest vm3 with HA enabled
    When guest vm3 is started
    Then guest vm3 is running on server3

  @rule:PLACE-MANUAL-PREFERRED @release:2.1 @release:2.2
  Scenario: Manual starts a guest on the preferred server with the most free memory
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 8192      |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 32768     |
    And a guest vm1 with HA enabled that prefers server1 and server2
    When guest vm1 is started
    Then guest vm1 is running on server2

  @rule:PLACE-FAILOVER-POLICY @rule:PLACE-MANUAL-PREFERRED @release:2.1 @release:2.2 @destructive
  Scenario: A failed guest with preferred servers is restarted on a preferred server, not the emptiest one
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 65536     |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 8192      |
    And a guest vm1 with HA enabled that prefers server2 and server3
    And guest vm1 is running
    When server2 fails
    Then guest vm1 is running on another server within the failover bound
    And guest vm1 is running on server3

  @rule:PLACE-FAILOVER-POLICY @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @release:2.2 @destructive
  Scenario: A failed Auto guest is restarted on the surviving server with the most free memory
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 8192      |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 32768     |
    And a guest vm1 with HA enabled running on server3
    When server3 fails
    Then guest vm1 is running on server2

  @rule:PLACE-FAILOVER-POLICY @release:2.1 @release:2.2 @destructive
  Scenario: A server that is shut down is never chosen to start a guest
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 8192      |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 32768     |
    And a guest vm1 with HA enabled
    When server3 is shut down from Oracle VM Manager and its guests are migrated
    And guest vm1 is started
    Then guest vm1 is running on server2

  @rule:PLACE-CAPACITY-CAVEAT @rule:FAIL-NO-SERVER-POWER-OFF @release:2.1 @release:2.2 @destructive
  Scenario: A guest whose preferred servers are full is powered off although other servers have room
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled that prefers server2 and server3
    And a guest vm2 of 3072 MB with HA enabled running on server3
    And guest vm1 is running
    When server2 fails
    Then guest vm1 is powered off
    When 600 seconds pass
    Then guest vm1 is powered off
    And server1 runs no guests

  @rule:PLACE-STOPPED-UNASSIGNED @release:2.1 @release:2.2
  Scenario: A stopped guest is not associated with any server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When guest vm1 is stopped
    Then the operation succeeds
    And guest vm1 is not associated with any server
    And server2 runs no guests
