Feature: A server or a guest fails
  The HA guests of a failed server are restarted on other available servers
  within the failover bound; with no server available they are powered off
  and restarted when one becomes available.

  @rule:FAIL-SERVER-RESTART @rule:HA-ENABLE-BOTH @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario Outline: HA guests of a server that <fault> run elsewhere; guests without HA stay stopped
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server2
    And a guest vm3 with HA disabled running on server2
    When server2 <fault>
    Then every HA guest of server2 is running on another server within the failover bound
    And guest vm3 is not restarted
    And no guest ever ran on two servers at once

    Examples:
      | fault                              |
      | fails                              |
      | hangs                              |
      | loses access to the shared storage |

  @rule:FAIL-SERVER-RESTART @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: HA guests of a failed server on OCFS2 storage run elsewhere
    Given a clustered server pool of 3 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server3
    When server3 fails
    Then guest vm1 is running on another server within the failover bound
    And guest vm1 is running on one of server1 and server2

  @rule:FAIL-SERVER-RESTART @rule:CONS-TEST-HA @release:3.x @destructive
  Scenario: Testing the Oracle VM 3 HA configuration by failing the master server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When the server pool master fails
    Then guest vm1 is running on another server within the failover bound

  @rule:FAIL-NO-SERVER-POWER-OFF @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: An HA guest with no server to go to is powered off and restarted when its server comes back
    Given a clustered server pool of 2 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled running on server1
    And a guest vm2 of 3072 MB with HA enabled running on server2
    When server2 fails
    Then guest vm2 is powered off
    When server2 comes back
    Then guest vm2 is running on server2

  @rule:FAIL-NO-SERVER-POWER-OFF @rule:PLACE-MANUAL-PREFERRED @release:2.1 @release:2.2 @destructive
  Scenario: An HA guest whose only preferred server fails is powered off until that server is back
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled that prefers server2
    And guest vm1 is running
    When server2 fails
    Then guest vm1 is powered off
    When server2 comes back
    Then guest vm1 is running on server2

  @rule:FAIL-ADEQUATE-RESOURCES @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: Guests survive the failure of two servers when the last one has room for them all
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 8192 MB of memory per server
    And a guest vm1 of 2048 MB with HA enabled running on server2
    And a guest vm2 of 2048 MB with HA enabled running on server2
    And a guest vm3 of 2048 MB with HA enabled running on server3
    When servers server2 and server3 fail
    Then every HA guest of server2 and server3 is running on another server within the failover bound
    And guests vm1 to vm3 are running

  @rule:FAIL-ADEQUATE-RESOURCES @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: Guests beyond the capacity left after two failures are powered off until a server is back
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled running on server2
    And a guest vm2 of 3072 MB with HA enabled running on server3
    When servers server2 and server3 fail
    Then 1 of the guests vm1 to vm2 is powered off
    And 1 of the guests vm1 to vm2 is running
    When server3 comes back
    Then guests vm1 to vm2 are running

  @rule:FAIL-GUEST-RESTART @release:2.1 @release:2.2 @destructive
  Scenario: A crashed HA guest is restarted automatically
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When guest vm1 crashes
    Then guest vm1 is restarted
    And server2 stays in the cluster

  @rule:FAIL-GUEST-RESTART @release:2.1 @release:2.2 @destructive
  Scenario: A crashed HA guest is restarted on another server although its own has the most room
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA enabled running on server1
    And a guest vm3 with HA enabled running on server3
    When guest vm1 crashes
    Then guest vm1 is restarted on another server within the guest restart bound
    And guest vm1 is running on one of server1 and server3
    And server2 stays in the cluster
    And no guest ever ran on two servers at once

  @rule:FAIL-GUEST-RESTART @release:2.1 @release:2.2 @destructive
  Scenario: A crashed guest without HA stays stopped
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA disabled running on server2
    When guest vm1 crashes
    Then guest vm1 is not restarted
    And guest vm1 is stopped

  @rule:FAIL-NO-SERVER-POWER-OFF @rule:FAIL-ADEQUATE-RESOURCES @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: Counted after the failed server comes back, every guest runs again
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled running on server1
    And a guest vm2 of 3072 MB with HA enabled running on server2
    And a guest vm3 of 3072 MB with HA enabled running on server3
    When server3 fails
    Then 1 of the guests vm1 to vm3 is powered off
    When server3 comes back
    Then 3 of the guests vm1 to vm3 are running
    And server3 runs 1 guest
