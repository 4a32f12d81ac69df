Feature: The Server Pool Master and the server roles
  One server is the Server Pool Master. In 2.1 HA fails with it; in 2.2 the
  first server to acquire the lock takes over. The master role can be moved;
  the utility role does not follow a failed master.

  @rule:MASTER-FAIL-21 @release:2.1 @destructive
  Scenario: In 2.1 HA fails with the Server Pool Master
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    And a guest vm2 with HA enabled running on server2
    When the server pool master fails
    Then there is no server pool master
    And guest vm1 is not restarted
    When server2 fails
    Then guest vm2 is not restarted

  @rule:MASTER-FAIL-21 @release:2.1 @destructive
  Scenario Outline: In 2.1 HA fails with a Server Pool Master that is <what>, not only with one that crashed
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    And a guest vm2 with HA enabled running on server2
    When <fault>
    Then there is no server pool master
    And guest vm1 is not restarted
    When server2 fails
    Then guest vm2 is not restarted

    Examples:
      | what    | fault                                        |
      | hung    | server1 hangs                                |
      | cut off | the network partitions server1 from the rest |

  @rule:MASTER-TAKEOVER-22 @rule:CLUS-FENCE-RUNAWAY @rule:CLUS-NO-DOUBLE-RUN @release:2.2 @destructive
  Scenario: In 2.2 a hung master that resumes after another server took over fences itself and leaves the role to it
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When server1 hangs
    Then another server becomes the server pool master within the failover bound
    And the new server pool master is the first server that acquired the master lock
    And guest vm1 is running on another server within the failover bound
    When server1 comes back
    Then server1 fences itself
    And server1 rejoins the cluster after rebooting
    And exactly one server has the master role
    And server1 never runs guest vm1 again
    And there was never more than one server pool master at a time
    And no guest ever ran on two servers at once

  @rule:MASTER-TAKEOVER-22 @release:2.2 @destructive
  Scenario: In 2.2 another server takes over as master and restarts the master's HA guests
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    And the new server pool master is the first server that acquired the master lock
    And exactly one server has the master role
    And guest vm1 is running on another server within the failover bound

  @rule:MASTER-TAKEOVER-22 @release:2.2 @destructive
  Scenario: In 2.2 the new master keeps handling HA for later failures
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm2 with HA enabled running on server2
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    When server2 fails
    Then guest vm2 is running on server3

  @rule:MASTER-TAKEOVER-3X @release:3.x @destructive
  Scenario: In Oracle VM 3 another member takes over the master role and HA goes on
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    And a guest vm2 with HA enabled running on server2
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    And the new server pool master is the first server that acquired the master lock
    And exactly one server has the master role
    And guest vm1 is running on another server within the failover bound
    When server2 fails
    Then guest vm2 is running on another server within the failover bound

  @rule:POOL-VITAL-INFO-3X @release:3.x @destructive
  Scenario: In Oracle VM 3 a guest that was not running can be started after the master failed
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm2 of 2048 MB with HA enabled
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    When guest vm2 is started
    Then the operation succeeds
    And guest vm2 is running on one of server2 and server3

  @rule:MASTER-DYNAMIC-22 @release:2.2
  Scenario: In 2.2 the master role moves to another server without stopping the guests
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    And a guest vm2 with HA enabled running on server2
    When the server pool master role is moved to server2
    Then the operation succeeds
    And server2 is the server pool master
    And guest vm1 keeps running on server1
    And guest vm2 keeps running on server2

  @rule:MASTER-REASSIGN @rule:ROLE-ONE-MASTER @release:2.1 @release:2.2
  Scenario: The Server Pool Master role can be re-assigned to another server of the pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When the server pool master role is moved to server3
    Then the operation succeeds
    And server3 is the server pool master
    And exactly one server has the master role

  @rule:ROLE-ONE-MASTER @release:2.1 @release:2.2
  Scenario: Roles combine on one server but the pool has a single Server Pool Master
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then server1 is the server pool master
    And server1 has the master, utility and vm roles
    And exactly one server has the master role

  @rule:CONS-ONE-MANAGER @release:2.1 @release:2.2
  Scenario: The pool is managed through its one Server Pool Master
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then every server answers to the server pool master

  @rule:CONS-ONE-MANAGER @release:2.1 @release:2.2
  Scenario: A second Oracle VM Manager cannot manage the pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled
    When a second Oracle VM Manager starts guest vm1
    Then the operation is refused
    And guest vm1 is stopped
    When guest vm1 is started
    Then the operation succeeds

  @rule:ROLE-UTILITY-NOT-MOVED-22 @release:2.2 @destructive
  Scenario: In 2.2 the utility role of a failed master is not moved to another server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    And no running server has the utility role

  @rule:ROLE-MULTIPLE-UTILITY-22 @release:2.2 @destructive
  Scenario: In 2.2 a second utility server keeps the utility role when the master fails
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 16384     |
      | server2 | utility, vm         | 16384     |
      | server3 | vm                  | 16384     |
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    And server2 has the utility role
