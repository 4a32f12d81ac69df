Feature: Prerequisites verified when HA is enabled on the server pool
  Enabling HA checks every server of the pool; a broken prerequisite keeps
  HA off and is reported by the id of the rule it breaks.

  @rule:PRE-RELEASE-MIN @release:2.1 @release:2.2 @release:3.x
  Scenario: A server older than 2.1.2 keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server3 reports Oracle VM Server release 2.1.1
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-RELEASE-MIN
    And HA is not enabled on the server pool

  @rule:PRE-RELEASE-MIN @release:3.x
  Scenario: A 2.2 server in an Oracle VM 3 pool keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server3 reports Oracle VM Server release 2.2.0
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-RELEASE-MIN

  @rule:PRE-RELEASE-MIN @release:2.1 @release:2.2
  Scenario: A server at release 2.1.2 may take part in HA
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server3 reports Oracle VM Server release 2.1.2
    When HA is enabled on the pool
    Then the operation succeeds

  @rule:PRE-SAME-SHARED-STORAGE @release:2.1 @release:2.2
  Scenario: A server using another NFS source keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server3 uses other.example.com:/OVS as its shared storage instead
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-SAME-SHARED-STORAGE

  @rule:PRE-SAME-SHARED-STORAGE @rule:STOR-NFS-SOURCE @release:2.1 @release:2.2
  Scenario: Every server has the same NFS source as shared storage
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then /proc/mounts on every server lists the pool's cluster root
    And /etc/ovs/repositories on every server lists the pool's cluster root

  @rule:PRE-SAME-CLUSTER-ROOT @release:2.1 @release:2.2
  Scenario: A server with another OCFS2 cluster root keeps HA from being enabled
    Given a clustered server pool of 3 servers on OCFS2 over SAN shared storage with HA disabled on the pool
    And server3 uses /dev/sdc1 as its shared storage instead
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-SAME-CLUSTER-ROOT

  @rule:PRE-CLUSTER-ROOT-MOUNT @release:2.1
  Scenario: In 2.1 the cluster root is mounted at /OVS on every server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the cluster root is mounted at /OVS on every server

  @rule:PRE-CLUSTER-ROOT-MOUNT @rule:STOR-REPOS-PROPAGATED @release:2.2
  Scenario: In 2.2 the cluster root is mounted under /var/ovs/mount on every server
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the cluster root is mounted under /var/ovs/mount on every server
    And /OVS on every server is a link to the cluster root mounted under /var/ovs/mount
    And /etc/ovs/repositories on every server lists the pool's cluster root

  @rule:PRE-CLUSTER-ROOT-MOUNT @release:2.1 @release:2.2
  Scenario: A server without the cluster root mounted keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And I have run "umount /OVS" on server3
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-CLUSTER-ROOT-MOUNT

  @rule:PRE-REPOSITORIES-FILE @release:2.1 @release:2.2
  Scenario: An /OVS mount kept in /etc/fstab instead of /etc/ovs/repositories keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/fstab on server2 mounts the cluster root at /OVS
    And /etc/ovs/repositories on server2 is empty
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-REPOSITORIES-FILE

  @rule:PRE-NO-LOCAL-OVS @release:2.1 @release:2.2
  Scenario: A local /OVS repository still mounted keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server2 has a local /OVS repository mounted from /dev/sda3 (ext3)
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-NO-LOCAL-OVS

  @rule:PRE-NO-LOCAL-OCFS2-ROOT @release:2.2
  Scenario: Default local OCFS2 storage at /OVS cannot be made HA-capable
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server2 uses its local OCFS2 partition /dev/sda3 as the cluster root
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-NO-LOCAL-OCFS2-ROOT

  @rule:PRE-CLUSTERCONF-IDENTICAL @release:2.1 @release:2.2 @release:3.x
  Scenario: A cluster.conf that differs on one server keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/ocfs2/cluster.conf on server3 differs from the one on server1
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-CLUSTERCONF-IDENTICAL

  @rule:PRE-CLUSTERCONF-NO-LOOPBACK @release:2.1 @release:2.2 @release:3.x
  Scenario: A loopback address in cluster.conf keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/ocfs2/cluster.conf on every server gives server3 the loopback address
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-CLUSTERCONF-NO-LOOPBACK

  @rule:PRE-NODE-SLOTS @release:2.1 @release:2.2
  Scenario: A pool with more servers than the 16 node slots cannot be HA enabled
    Given a clustered server pool of 17 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-NODE-SLOTS

  @rule:PRE-NODE-SLOTS @release:2.1 @release:2.2
  Scenario: The 16 node slots of the cluster root take exactly 16 servers
    Given a clustered server pool of 16 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then the operation succeeds
    And HA is enabled on the server pool
    And every server sees every other server heartbeating

  @rule:PRE-NFS-HEARTBEAT-FILE @release:2.1 @release:2.2
  Scenario: An NFS cluster heartbeats through .server_pool_hb in the cluster root
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the file /OVS/.server_pool_hb exists on every server

  @rule:PRE-NFS-HEARTBEAT-FILE @release:2.1 @release:2.2
  Scenario: An OCFS2 cluster has no heartbeat file
    Given a clustered server pool of 3 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    Then the file /OVS/.server_pool_hb exists on no server

  @rule:PRE-SERVICES-UP @release:2.1 @release:2.2
  Scenario: The cluster services run on every server of an HA pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the services o2cb, ocfs2, ovsrepositories and ovs-agent are running on every server

  @rule:PRE-SERVICES-UP @release:2.1 @release:2.2 @destructive
  Scenario: A server whose cluster services are stopped keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And the cluster services are stopped on server3
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-SERVICES-UP

  @rule:PRE-SERVICES-UP-3X @release:3.x
  Scenario: o2cb and the Oracle VM Agent run on every server of a clustered Oracle VM 3 pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the services o2cb and ovs-agent are running on every server

  @rule:PRE-SERVICES-UP-3X @release:3.x @destructive
  Scenario: An Oracle VM 3 server whose agent is stopped keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And I have run "service ovs-agent stop" on server3
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-SERVICES-UP-3X

  @rule:PRE-MULTI-SERVER @release:2.1 @release:2.2 @release:3.x
  Scenario: A stand-alone Oracle VM Server cannot be HA enabled
    Given a clustered server pool of 1 server on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-MULTI-SERVER

  @rule:PRE-CLUSTERED-POOL @release:3.x
  Scenario: An unclustered server pool cannot be HA enabled
    Given an unclustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-CLUSTERED-POOL

  @rule:PRE-CLUSTERED-POOL @release:3.x
  Scenario: Every server of a clustered Oracle VM 3 pool heartbeats on the server pool file system
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then every server heartbeats on the server pool file system of its cluster

  @rule:PRE-MULTI-SERVER @rule:PRE-CLUSTERED-POOL @release:3.x
  Scenario: A clustered Oracle VM 3 pool of several servers can be HA enabled
    Given a clustered server pool of 2 servers on NFS shared storage with HA disabled on the pool
    When HA is enabled on the pool
    Then the operation succeeds
    And HA is enabled on the server pool
