Feature: Shared storage and repositories of an HA server pool
  The pool's shared storage is created first (OCFS2 on iSCSI or SAN, or an
  NFS export), registered with ovs-makerepo and kept in /etc/ovs/repositories;
  each pool has its own.

  @rule:STOR-OCFS2-FORMAT @release:2.1 @release:2.2 @destructive
  Scenario: A new shared disk is formatted with the documented OCFS2 parameters from any server
    Given a clustered server pool of 3 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    When I run "mkfs.ocfs2 -L mylabel -b 4K -C 4K -J size=64M -N 16 /dev/sdc1" on server2
    Then the command succeeds

  @rule:STOR-STORAGE-THEN-CLUSTER @release:2.1 @release:2.2
  Scenario: Shared storage created before the cluster is mounted on every server once the pool is built
    Given a clustered server pool of 3 servers on OCFS2 over SAN shared storage with HA disabled on the pool
    Then /proc/mounts on every server lists /dev/sdb1
    And every server sees every other server heartbeating
    When HA is enabled on the pool
    Then the operation succeeds

  @rule:PROC-MAKEREPO @release:2.1 @release:2.2
  Scenario: ovs-makerepo registers an NFS cluster root in /etc/ovs/repositories, not in /etc/fstab
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    When I run '/usr/lib/ovs/ovs-makerepo example.com:/OVS C "cluster root"' on server1
    Then the command succeeds
    And /etc/ovs/repositories on server1 lists example.com:/OVS
    And /etc/fstab on server1 does not list example.com:/OVS

  @rule:PROC-MAKEREPO @release:2.1 @release:2.2
  Scenario: ovs-makerepo registers an OCFS2 cluster root in /etc/ovs/repositories
    Given a clustered server pool of 3 servers on OCFS2 over SAN shared storage with HA disabled on the pool
    When I run '/usr/lib/ovs/ovs-makerepo /dev/sdb1 C "cluster root"' on server1
    Then the command succeeds
    And /etc/ovs/repositories on server1 lists /dev/sdb1

  @rule:STOR-DISK-GROWTH @release:2.1 @release:2.2
  Scenario: More shared space is added as a repository beneath /OVS with ovs-makerepo
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When I run '/usr/lib/ovs/ovs-makerepo example.com:/OVS2 "more space"' on server1
    Then the command succeeds
    And /etc/ovs/repositories on server1 lists example.com:/OVS2
    And /etc/ovs/repositories on server1 lists example.com:/OVS

  @rule:STOR-OWN-POOL-STORAGE @release:2.1 @release:2.2 @destructive
  Scenario: A second server pool made on the same shared storage is detected by the servers whose slots it takes
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When a second server pool of 2 servers is made on the pool's shared storage
    Then server1 reports another heartbeat in its own slot
    And server2 reports another heartbeat in its own slot
    And server3 does not report another heartbeat in its own slot

  @rule:STOR-OWN-POOL-STORAGE @release:2.1 @release:2.2
  Scenario: The cluster on the pool's shared storage holds only the servers of this pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool
