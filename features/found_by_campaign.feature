Feature: Fault schedules found by ovm-conformance campaign
  Each scenario is a fault schedule `ovm-conformance campaign` found breaking an HA property
  on the reference implementation, shrunk and printed in these very words (only the names and a
  smaller pool are ours); each failed before its fix and passes since. The first: a master whose
  lease check failed while its storage was briefly lost stepped down although it still held the
  lease, and the pool had no master ever after. The second: a new master waited two resync periods
  before sending again the start its dead predecessor had in flight. The third: a guest's crash,
  reported while the network was split, never reached the master, which went on counting it as
  running; the master now asks every server what it runs once per resync period.

  @rule:CLUS-FENCE-REBOOT @rule:FAIL-ADEQUATE-RESOURCES @rule:FAIL-SERVER-RESTART @rule:FAIL-NO-SERVER-POWER-OFF @rule:CLUS-NO-DOUBLE-RUN @rule:ROLE-ONE-MASTER @rule:CLUS-FENCE-RUNAWAY @rule:HA-ENABLE-BOTH @rule:PLACE-FAILOVER-POLICY @rule:PLACE-AUTO-MAX-RESOURCES @release:2.2 @destructive
  Scenario: The last server left, master for a moment, keeps the role through a 10 second storage outage
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 8192 MB of memory per server
    And a guest vm1 of 1024 MB with HA enabled running on server1
    When servers server1 and server2 fail
    And 62 seconds pass
    And server3 loses access to the shared storage
    And 10 seconds pass
    And server3 comes back
    And 73 seconds pass
    Then every HA guest is running, or is powered off because no surviving server has room for it
    When server1 comes back
    And server2 comes back
    And server3 comes back
    And the pool has settled
    Then every server is back in the cluster
    And every HA guest is running, or is powered off because no server has room for it
    And no guest ever ran on two servers at once
    And there was never more than one server pool master at a time
    And every server that fenced itself stopped its guests
    And no guest without HA was restarted
    And every restarted guest went to the server with the most free memory its preferred-server policy allows

  @rule:FAIL-SERVER-RESTART @rule:FAIL-NO-SERVER-POWER-OFF @rule:FAIL-GUEST-RESTART @rule:CLUS-FENCE-REBOOT @rule:CLUS-NO-DOUBLE-RUN @rule:ROLE-ONE-MASTER @rule:CLUS-FENCE-RUNAWAY @rule:HA-ENABLE-BOTH @rule:PLACE-FAILOVER-POLICY @rule:PLACE-AUTO-MAX-RESOURCES @release:2.2 @destructive
  Scenario: A guest whose restart no live master heard of, and that crashed again, runs within the failover bound of the new master
    Given a clustered server pool of 2 servers on NFS shared storage with HA enabled on the pool and 8192 MB of memory per server
    And a guest vm1 of 1024 MB with HA enabled running on server1
    And a guest vm2 of 1024 MB with HA enabled running on server1
    When guest vm2 crashes
    And 2 seconds pass
    And server1 fails
    And 10 seconds pass
    And guest vm2 crashes
    And 63 seconds pass
    Then every HA guest is running, or is powered off because no surviving server has room for it
    When server1 comes back
    And the pool has settled
    Then every server is back in the cluster
    And every HA guest is running, or is powered off because no server has room for it
    And no guest ever ran on two servers at once
    And there was never more than one server pool master at a time
    And every server that fenced itself stopped its guests
    And no guest without HA was restarted
    And every restarted guest went to the server with the most free memory its preferred-server policy allows

  @rule:FAIL-SERVER-RESTART @rule:FAIL-NO-SERVER-POWER-OFF @rule:CLUS-QUORUM @rule:FAIL-GUEST-RESTART @rule:CLUS-FENCE-REBOOT @rule:CLUS-NO-DOUBLE-RUN @rule:ROLE-ONE-MASTER @rule:CLUS-FENCE-RUNAWAY @rule:HA-ENABLE-BOTH @rule:PLACE-FAILOVER-POLICY @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @destructive
  Scenario: A guest that crashes while the master is cut off for 10 seconds is restarted all the same
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 8192 MB of memory per server
    And a guest vm1 of 1024 MB with HA enabled running on server2
    When the network partitions server1 from the rest
    And guest vm1 crashes
    And 10 seconds pass
    And the network is healed
    And 161 seconds pass
    Then every HA guest is running, or is powered off because no surviving server has room for it
    When the network is healed
    And the pool has settled
    Then every server is back in the cluster
    And every HA guest is running, or is powered off because no server has room for it
    And no guest ever ran on two servers at once
    And there was never more than one server pool master at a time
    And every server that fenced itself stopped its guests
    And no guest without HA was restarted
    And every restarted guest went to the server with the most free memory its preferred-server policy allows
