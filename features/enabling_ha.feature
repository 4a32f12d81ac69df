Feature: Enabling HA on the server pool and on guests
  HA protects a guest only when it is enabled both on the server pool and on
  the guest, enabled on the pool first; enabling it on the pool is an Oracle
  VM Manager operation that verifies the setup and propagates the cluster
  configuration from the Server Pool Master.

  @rule:HA-ENABLE-BOTH @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario Outline: A guest is restarted after a server failure only when HA is on for both pool and guest
    Given a clustered server pool of 3 servers on NFS shared storage with HA <pool HA> on the pool
    And a guest vm1 with HA <guest HA> running on server2
    When server2 fails
    Then guest vm1 is <outcome>

    Examples:
      | pool HA  | guest HA | outcome                                              |
      | enabled  | enabled  | running on another server within the failover bound |
      | enabled  | disabled | not restarted                                        |
      | disabled | enabled  | not restarted                                        |
      | disabled | disabled | not restarted                                        |

  @rule:HA-ENABLE-BOTH @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A guest without HA ends stopped and on no server after its server fails
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA disabled running on server2
    When server2 fails
    And the failover bound has passed
    Then guest vm1 is stopped
    And guest vm1 is not associated with any server

  @rule:HA-ENABLE-ORDER @rule:HA-GUEST-EDIT @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: HA enabled on the pool and then by editing the guest protects the guest
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And a guest vm1 with HA disabled running on server2
    When HA is enabled on the pool
    And HA is enabled on guest vm1
    And server2 fails
    Then guest vm1 is running on another server within the failover bound

  @rule:HA-ENABLE-BOTH @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: HA disabled on the pool stops protecting guests that have HA enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When HA is disabled on the pool
    And server2 fails
    Then guest vm1 is not restarted
    And HA is not enabled on the server pool

  @rule:HA-GUEST-EDIT @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A guest edited to disable HA is no longer restarted
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When HA is disabled on guest vm1
    And server2 fails
    Then guest vm1 is not restarted

  @rule:HA-CLUSTER-MANAGED @release:2.1 @release:2.2 @release:3.x
  Scenario: Enabling HA in Oracle VM Manager leaves every server in one cluster
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then the operation succeeds
    And HA is enabled on the server pool
    And every server sees every other server heartbeating

  @rule:HA-CLUSTER-MANAGED @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A cluster made with the Oracle VM Server tools alone restarts no guest
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And a guest vm1 with HA enabled running on server2
    Then every server sees every other server heartbeating
    When server2 fails
    Then guest vm1 is not restarted

  @rule:HA-ENABLE-VERIFY @release:2.1 @release:2.2
  Scenario: Enabling HA verifies the server pool setup and reports what is wrong
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/hosts on server2 maps its host name to the loopback address
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-HOSTNAME-NOT-LOOPBACK
    And HA is not enabled on the server pool

  @rule:HA-ENABLE-PROPAGATE @release:2.1 @release:2.2
  Scenario: Enabling HA propagates cluster.conf and the repositories from the Server Pool Master
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then the operation succeeds
    And /etc/ocfs2/cluster.conf is the same on every server
    And /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool
    And /etc/ovs/repositories on every server lists the pool's cluster root
    And the file /OVS/.server_pool_hb exists on every server

  @rule:HA-ENABLE-PROPAGATE @rule:PROC-CLUSTER-CONFIGURE @release:2.1 @release:2.2
  Scenario: Enabling HA on a pool configured on its master only configures and joins every server
    Given a server pool of 3 servers on NFS shared storage with the cluster configured on the Server Pool Master only
    And /etc/ocfs2/cluster.conf does not exist on server1
    And the file /OVS/.server_pool_hb does not exist on server1
    When HA is enabled on the pool
    Then the operation succeeds
    And server1 ran "/usr/lib/ovs/ovs-cluster-configure" when HA was enabled on the pool
    And /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool
    And /etc/ocfs2/cluster.conf is the same on every server
    And /etc/ovs/repositories on every server lists the pool's cluster root
    And the file /OVS/.server_pool_hb exists on every server
    And every server sees every other server heartbeating

  @rule:HA-ENABLE-PROPAGATE @rule:PROC-CLUSTER-CONFIGURE @release:2.1 @release:2.2
  Scenario: Enabling HA keeps the cluster.conf the administrator wrote and propagates it as it is
    Given a server pool of 3 servers on NFS shared storage with the cluster configured on the Server Pool Master only
    And the administrator has written /etc/ocfs2/cluster.conf on server1 by hand
    When HA is enabled on the pool
    Then the operation succeeds
    And /etc/ocfs2/cluster.conf on every server is the one the administrator wrote

  @rule:HA-ENABLE-VERIFY @release:2.1 @release:2.2
  Scenario: Enabling HA shows every error of the setup, not only the first
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/hosts on server2 maps its host name to the loopback address
    And server3 reports Oracle VM Server release 2.1.1
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-HOSTNAME-NOT-LOOPBACK
    And enabling HA fails naming rule PRE-RELEASE-MIN
    And HA is not enabled on the server pool

  @rule:HA-ENABLE-PROPAGATE @rule:PROC-MAKEREPO @release:2.1 @release:2.2
  Scenario: A repository made with ovs-makerepo on the master is mounted on every server once HA is enabled
    Given a server pool of 3 servers on NFS shared storage with the cluster configured on the Server Pool Master only
    When I run '/usr/lib/ovs/ovs-makerepo example.com:/OVS2 "more space"' on server1
    Then the command succeeds
    And /etc/ovs/repositories on server1 lists example.com:/OVS2
    And the repository example.com:/OVS2 is mounted at its repository mount point on server1
    When HA is enabled on the pool
    Then the operation succeeds
    And the repository example.com:/OVS2 is mounted at its repository mount point on every server

  @rule:HA-AGENT-START-PROPAGATE @release:2.1 @release:2.2 @destructive
  Scenario: A restarted agent receives the repositories and cluster.conf again
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And /etc/ovs/repositories on server3 is empty
    And /etc/ocfs2/cluster.conf on server3 differs from the one on server1
    And I have run "service ovs-agent stop" on server3
    When I run "service ovs-agent start" on server3
    Then the command succeeds
    And /etc/ovs/repositories on server3 lists the pool's cluster root
    And /etc/ocfs2/cluster.conf is the same on every server
