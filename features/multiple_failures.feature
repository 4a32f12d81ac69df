Feature: Several servers fail within one dead threshold
  When two or more servers are lost at the same instant, or one after another
  before the first is even declared dead, every HA guest still runs again on a
  server that is left, within the failover bound of the last failure: a restart
  that was on its way to a server that died too is planned again, whichever of
  the two servers holds the guest's lease, and no guest ever runs on two servers.

  @rule:FAIL-ADEQUATE-RESOURCES @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: Two servers that fail together, the emptiest among them, leave no HA guest behind
    Given a clustered server pool of 4 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server1
    And a guest vm3 with HA enabled running on server4
    When servers server2 and server3 fail
    Then every HA guest of server2 and server3 is running on another server within the failover bound
    And guest vm1 is running on one of server1 and server4
    And no guest ever ran on two servers at once

  @rule:FAIL-ADEQUATE-RESOURCES @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A second server that fails 10 seconds after the first is not where the first one's guests end up
    Given a clustered server pool of 4 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server1
    And a guest vm3 with HA enabled running on server4
    When servers server2 and server3 fail 10 seconds apart
    Then every HA guest of server2 and server3 is running on another server within the failover bound
    And guest vm1 is running on one of server1 and server4
    And no guest ever ran on two servers at once

  @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A guest whose restart had taken its lease when the new server failed is restarted again
    Given a clustered server pool of 4 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server1
    And a guest vm3 with HA enabled running on server4
    When server2 fails
    And server3 fails while guest vm1 is starting on it
    Then guest vm1 is running on another server within the failover bound
    And guest vm1 is running on one of server1 and server4
    And no guest ever ran on two servers at once

  @rule:PLACE-MANUAL-PREFERRED @rule:FAIL-ADEQUATE-RESOURCES @release:2.1 @release:2.2 @destructive
  Scenario: A Manual guest whose two preferred servers fail together runs on its third one
    Given a clustered server pool of 4 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled that prefers server2, server3 and server4
    And guest vm1 is running
    And a guest vm2 with HA enabled running on server4
    When servers server2 and server3 fail
    Then guest vm1 is running on another server within the failover bound
    And guest vm1 is running on server4
    And no guest ever ran on two servers at once

  @rule:CLUS-QUORUM @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: On an even split of 6 servers the three that fence leave their HA guests to the other three
    Given a clustered server pool of 6 servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm4 with HA enabled are running
    When the network partitions server4, server5 and server6 from the rest
    Then server4, server5 and server6 fence themselves
    And every HA guest of server4, server5 and server6 is running on another server within the failover bound
    And guests vm1 to vm4 are running
    And no guest ever ran on two servers at once

  @rule:FAIL-NO-SERVER-POWER-OFF @rule:FAIL-ADEQUATE-RESOURCES @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: An HA guest powered off after two servers failed together runs again when they are back
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled running on server2
    And a guest vm2 of 3072 MB with HA enabled running on server1
    When servers server2 and server3 fail
    Then guest vm1 is powered off
    When server2 comes back
    And server3 comes back
    Then guest vm1 is running on one of server2 and server3
    And guest vm2 is running on server1
    And no guest ever ran on two servers at once

  @rule:FAIL-SERVER-RESTART @rule:CLUS-QUORUM @rule:CLUS-NO-DOUBLE-RUN @release:2.2 @release:3.x @destructive
  Scenario: The master fails on the cut-off side of a split and its guests restart on the side that stays
    Given a clustered server pool of 5 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When the network partitions server1 and server2 from the rest
    And 58 seconds pass
    And server1 fails
    Then every HA guest of server1 is running on another server within the failover bound of the first fault
    And guest vm1 is running on one of server3, server4 and server5
    And no guest ever ran on two servers at once

  @rule:CLUS-QUORUM @rule:MASTER-TAKEOVER-22 @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.2 @destructive
  Scenario: In 2.2 a server cut off with the master does not take the master role when the master fails after the network idle timeout
    Given a clustered server pool of 5 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When the network partitions server1 and server2 from the rest
    And 31 seconds pass
    And server1 fails
    Then every HA guest of server1 is running on another server within the failover bound of the first fault
    And guest vm1 is running on one of server3, server4 and server5
    And the new server pool master is the first server that acquired the master lock
    And no guest ever ran on two servers at once

  @rule:FAIL-SERVER-RESTART @rule:CLUS-NO-DOUBLE-RUN @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: Two servers failed in two steps at one instant both have their HA guests restarted in the first one's bound
    Given a clustered server pool of 4 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server3
    And a guest vm3 with HA enabled running on server1
    When server2 fails
    And server3 fails
    Then every HA guest of server2 and server3 is running on another server within the failover bound of the first fault
    And no guest ever ran on two servers at once
