Feature: Heartbeating, quorum and fencing in the O2CB cluster
  Servers heartbeat on the cluster root; a silent server is declared dead
  after the O2CB dead threshold; a server that cannot heartbeat or loses
  quorum fences itself (restarts) so guests can be restarted safely.

  @rule:HB-DEAD-THRESHOLD @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A crashed server is declared dead by every peer after the O2CB dead threshold
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When server3 fails
    Then every other server sees server3 as dead after the O2CB dead threshold

  @rule:HB-DEAD-THRESHOLD @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A hung server is declared dead by every peer after the O2CB dead threshold
    Given a clustered server pool of 3 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    When server2 hangs
    Then every other server sees server2 as dead after the O2CB dead threshold

  @rule:HB-SELF-FENCE-STORAGE @rule:FAIL-SERVER-RESTART @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server that loses the shared storage fences itself before its peers declare it dead
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server3
    When server3 loses access to the shared storage
    Then server3 fences itself before the other servers see it as dead
    And server3 fences itself O2CB_HEARTBEAT_THRESHOLD-1 heartbeat iterations after its last heartbeat write
    And guest vm1 is running on another server within the failover bound
    And no guest ever ran on two servers at once

  @rule:HB-CLEAN-LEAVE @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A cleanly shut down server leaves the heartbeat at once and is not fenced
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When server3 is shut down from Oracle VM Manager and its guests are migrated
    Then the operation succeeds
    And every other server sees server3 leave within 2 heartbeat iterations
    And server3 does not fence itself
    And server1 and server2 stay in the cluster

  @rule:CLUS-QUORUM @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario Outline: On a network split the quorum side survives and the other side fences itself
    Given a clustered server pool of <count> servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm4 with HA enabled are running
    When the network partitions <cut off> from the rest
    Then <fenced> <fence verb>
    And <survivors> <stay verb> in the cluster
    And no guest ever ran on two servers at once

    Examples:
      | count | cut off             | fenced              | fence verb       | survivors                    | stay verb |
      | 2     | server2             | server2             | fences itself    | server1                      | stays     |
      | 2     | server1             | server2             | fences itself    | server1                      | stays     |
      | 3     | server1             | server1             | fences itself    | server2 and server3          | stay      |
      | 3     | server3             | server3             | fences itself    | server1 and server2          | stay      |
      | 4     | server1 and server2 | server3 and server4 | fence themselves | server1 and server2          | stay      |
      | 4     | server3 and server4 | server3 and server4 | fence themselves | server1 and server2          | stay      |
      | 5     | server1 and server2 | server1 and server2 | fence themselves | server3, server4 and server5 | stay      |

  @rule:CLUS-QUORUM @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario Outline: HA guests of servers fenced on a network split are restarted by the surviving master
    Given a clustered server pool of <count> servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm4 with HA enabled are running
    When the network partitions <cut off> from the rest
    Then every HA guest is running within the failover bound
    And every HA guest of <cut off> is running on another server within the failover bound
    And server1 is the server pool master

    Examples:
      | count | cut off             |
      | 2     | server2             |
      | 3     | server3             |
      | 4     | server3 and server4 |

  @rule:CLUS-QUORUM @rule:MASTER-TAKEOVER-22 @release:2.2 @destructive
  Scenario Outline: In 2.2 a master fenced on a network split is replaced and its HA guests restarted
    Given a clustered server pool of <count> servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm4 with HA enabled are running
    When the network partitions <cut off> from the rest
    Then every HA guest is running within the failover bound
    And every HA guest of <cut off> is running on another server within the failover bound
    And exactly one server has the master role

    Examples:
      | count | cut off             |
      | 3     | server1             |
      | 5     | server1 and server2 |

  @rule:CLUS-QUORUM @release:3.x @destructive
  Scenario Outline: In Oracle VM 3 the HA guests of a master fenced on a network split are restarted
    Given a clustered server pool of <count> servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm4 with HA enabled are running
    When the network partitions <cut off> from the rest
    Then every HA guest is running within the failover bound
    And every HA guest of <cut off> is running on another server within the failover bound

    Examples:
      | count | cut off             |
      | 3     | server1             |
      | 5     | server1 and server2 |

  @rule:CLUS-FENCE-REBOOT @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server fenced for lack of quorum reboots and rejoins the cluster
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When the network partitions server3 from the rest
    Then server3 fences itself
    When the network is healed
    Then server3 rejoins the cluster after rebooting
    And every server sees every other server heartbeating

  @rule:CLUS-FENCE-RUNAWAY @rule:CLUS-NO-DOUBLE-RUN @rule:FAIL-SERVER-RESTART @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A hung server that resumes after its guests moved fences itself and never runs them again
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server2 hangs
    Then guest vm1 is running on another server within the failover bound
    When server2 comes back
    Then server2 fences itself
    And server2 rejoins the cluster after rebooting
    And server2 never runs guest vm1 again
    And no guest ever ran on two servers at once

  @rule:HB-DEAD-THRESHOLD @rule:FAIL-SERVER-RESTART @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server that hangs for less than the O2CB dead threshold keeps its guests, frozen but not stopped
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server2 hangs
    And 10 seconds pass
    And server2 comes back
    Then guest vm1 survives the hang of server2 without being restarted
    And server2 stays in the cluster
    And no guest ever ran on two servers at once

  @rule:CLUS-QUORUM @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server that fenced on a split and rebooted into it does not hold up the servers that stayed
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server3
    And a guest vm2 with HA enabled running on server1
    When the network partitions server3 from the rest
    And the failover bound has passed
    And 60 seconds pass
    And guest vm2 crashes
    Then guest vm2 is restarted on another server within the guest restart bound
    And guest vm1 is running on one of server1 and server2
    And no guest ever ran on two servers at once
