Feature: Live migration, maintenance mode and the inbound migration lock
  Live migration moves running guests without interruption (it is not part
  of HA). In Oracle VM 3, maintenance mode empties a server, and the inbound
  migration lock keeps HA from placing guests on a server.

  @rule:MIG-LIVE @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A live-migrated guest keeps running on its new server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When guest vm1 is migrated to server3
    Then the operation succeeds
    And guest vm1 was live migrated to server3
    And no guest ever ran on two servers at once

  @rule:MIG-LIVE-NOT-HA-3X @release:3.x @destructive
  Scenario: In Oracle VM 3 live migration works without HA and the guest runs uninterrupted
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And a guest vm1 with HA disabled running on server2
    When guest vm1 is migrated to server3
    Then the operation succeeds
    And guest vm1 was live migrated to server3
    And no guest ever ran on two servers at once

  @rule:MIG-MAINTENANCE-3X @release:3.x @destructive
  Scenario: Maintenance mode migrates the running guests away from the server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA disabled running on server2
    When server2 is put into maintenance mode
    Then the operation succeeds
    And guest vm1 was live migrated to another server
    And guest vm2 was live migrated to another server
    And server2 runs no guests

  @rule:MIG-MAINTENANCE-3X @release:3.x @destructive
  Scenario: On a pool without HA maintenance mode migrates every running guest automatically
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And a guest vm1 with HA disabled running on server2
    And a guest vm2 with HA enabled running on server2
    When server2 is put into maintenance mode
    Then the operation succeeds
    And guest vm1 was live migrated to another server
    And guest vm2 was live migrated to another server
    And server2 runs no guests
    And no guest ever ran on two servers at once

  @rule:MIG-MAINTENANCE-3X @release:3.x @destructive
  Scenario: A server in maintenance mode receives no guests when another server fails
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 16384     |
      | server2 | vm                  | 65536     |
      | server3 | vm                  | 16384     |
    And a guest vm1 with HA enabled running on server3
    And server2 is in maintenance mode
    When server3 fails
    Then guest vm1 is running on server1
    And server2 receives no guests

  @rule:MIG-INBOUND-LOCK-3X @release:3.x @destructive
  Scenario: HA does not restart guests on a server with the inbound migration lock
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 16384     |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 65536     |
    And a guest vm1 with HA enabled running on server2
    And the inbound migration lock is set on server3
    When server2 fails
    Then guest vm1 is running on server1
    And server3 receives no guests

  @rule:MIG-INBOUND-LOCK-3X @release:3.x @destructive
  Scenario: A guest cannot be migrated onto a server with the inbound migration lock
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And the inbound migration lock is set on server3
    When guest vm1 is migrated to server3
    Then the operation is refused
    And guest vm1 keeps running on server2

  @rule:MIG-INBOUND-LOCK-3X @release:3.x @destructive
  Scenario: Guests already on a server with the inbound migration lock may be migrated away
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server3
    And the inbound migration lock is set on server3
    When guest vm1 is migrated to server1
    Then the operation succeeds
    And guest vm1 was live migrated to server1
