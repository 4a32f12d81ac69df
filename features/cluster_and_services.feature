Feature: The O2CB cluster, its configuration file and the cluster services
  The Server Pool Master configures the cluster with the Oracle VM tools;
  cluster.conf is identical everywhere; services start in a strict order.

  @rule:PROC-CLUSTER-CONFIGURE @release:2.1 @release:2.2
  Scenario: ovs-cluster-configure on the master leaves cluster.conf in place and o2cb running
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    When I run "/usr/lib/ovs/ovs-cluster-configure" on server1
    Then the command succeeds
    And /etc/ocfs2/cluster.conf on server1 lists server1
    And the service o2cb is running on server1

  @rule:PROC-CLUSTER-CHECK @release:2.1 @release:2.2
  Scenario: ovs-cluster-check confirms the cluster on the Server Pool Master
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When I run "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab" on server1
    Then the command succeeds

  @rule:PROC-CLUSTER-CHECK @release:2.1 @release:2.2
  Scenario: ovs-cluster-check --master is refused on a server that is not the master
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When I run "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab" on server2
    Then the command fails

  @rule:PROC-ALTER-FSTAB @rule:PRE-REPOSITORIES-FILE @release:2.1 @release:2.2
  Scenario: ovs-cluster-check --alter-fstab moves /OVS from /etc/fstab into /etc/ovs/repositories
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/ovs/repositories on server2 is empty
    And /etc/fstab on server2 mounts the cluster root at /OVS
    When I run "/usr/lib/ovs/ovs-cluster-check --alter-fstab" on server2
    Then /etc/ovs/repositories on server2 lists the pool's cluster root
    And /etc/fstab on server2 does not list the pool's cluster root
    And the command output names a backup of /etc/fstab in /tmp holding the original

  @rule:PROC-ADD-SERVER @release:2.1 @release:2.2
  Scenario: A server added to an HA pool receives cluster.conf and joins the cluster
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When server4 is added to the pool
    Then the operation succeeds
    And every server sees server4 heartbeating
    And /etc/ocfs2/cluster.conf is the same on every server
    And /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool

  @rule:PROC-ADD-SERVER @release:2.1 @release:2.2 @destructive
  Scenario: HA guests can be restarted on a server added to the pool
    Given a clustered server pool of 2 servers on NFS shared storage with HA enabled on the pool and 4096 MB of memory per server
    And a guest vm1 of 3072 MB with HA enabled running on server1
    And a guest vm2 of 3072 MB with HA enabled running on server2
    When server3 is added to the pool
    And server2 fails
    Then guest vm2 is running on server3

  @rule:PROC-ADD-SERVER @rule:PLACE-AUTO-MAX-RESOURCES @release:2.1 @release:2.2
  Scenario: A server added to the pool takes the next guest the Auto policy starts, and only that one
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And guests vm1 to vm3 with HA enabled are running
    And a guest vm4 with HA enabled
    And a guest vm5 of 2048 MB with HA enabled
    When server4 is added to the pool
    And guest vm4 is started
    And guest vm5 is started
    Then server4 runs 1 guest
    And guests vm4 and vm5 run on different servers

  @rule:PROC-ADD-SERVER @rule:PROC-PROPAGATE @release:2.1 @release:2.2
  Scenario: ovs-cluster-check --propagate on the master gives a newly added server the pool's cluster.conf
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And server4 has been added to the pool
    And /etc/ocfs2/cluster.conf on server4 differs from the one on server1
    When I run "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab --propagate" on server1
    Then the command succeeds
    And /etc/ocfs2/cluster.conf is the same on every server
    And /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool

  @rule:PROC-ADD-SERVER @release:2.1 @release:2.2 @destructive
  Scenario: ovs-makerepo run on a newly added server gives it the cluster root and it joins the cluster
    Given a clustered server pool of 3 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    And server4 has been added to the pool
    And the cluster services running on server4 are o2cb
    And /etc/ovs/repositories on server4 is empty
    When I run '/usr/lib/ovs/ovs-makerepo /dev/sdb1 C "cluster root"' on server4
    Then the command succeeds
    And /etc/ovs/repositories on server4 lists /dev/sdb1
    When the cluster services are started on server4 in order
    Then the services o2cb, ocfs2, ovsrepositories and ovs-agent are running on server4
    And every server sees server4 heartbeating

  @rule:PROC-PROPAGATE @release:2.1 @release:2.2
  Scenario: ovs-cluster-check --propagate on the master makes cluster.conf identical everywhere
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And /etc/ocfs2/cluster.conf on server3 differs from the one on server1
    When I run "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab --propagate" on server1
    Then the command succeeds
    And /etc/ocfs2/cluster.conf is the same on every server

  @rule:CLUS-CONF-FORMAT @release:2.1 @release:2.2
  Scenario: cluster.conf names every server once with its public address and port 7777
    Given a clustered server pool of 4 servers on OCFS2 over iSCSI shared storage with HA enabled on the pool
    Then /etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool
    And /etc/ocfs2/cluster.conf is the same on every server

  @rule:PROC-SERVICE-ORDER @release:2.1 @release:2.2 @destructive
  Scenario: Cluster services stop in the opposite order and start in the documented order
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And the cluster services are stopped on server2
    When the cluster services are started on server2 in order
    Then the services o2cb, ocfs2, ovsrepositories and ovs-agent are running on server2
    And every server sees server2 heartbeating

  @rule:PROC-SERVICE-ORDER @release:2.1 @release:2.2 @destructive
  Scenario Outline: A cluster service cannot stop while the service started after it still runs
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And the cluster services running on server2 are <running>
    When I run "service <service> stop" on server2
    Then the command fails
    And the service <service> is running on server2

    Examples:
      | running                                    | service         |
      | o2cb, ocfs2, ovsrepositories and ovs-agent | ovsrepositories |
      | o2cb, ocfs2 and ovsrepositories            | ocfs2           |
      | o2cb and ocfs2                             | o2cb            |

  @rule:PROC-SERVICE-ORDER @release:2.1 @release:2.2 @destructive
  Scenario Outline: A cluster service cannot start before the service started before it
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And the cluster services running on server2 are <running>
    When I run "service <service> start" on server2
    Then the command fails
    And the service <service> is not running on server2

    Examples:
      | running        | service         |
      | no service     | ocfs2           |
      | o2cb           | ovsrepositories |
      | o2cb and ocfs2 | ovs-agent       |

  @rule:PROC-SERVICE-ORDER @release:2.1 @release:2.2 @destructive
  Scenario: ovs-agent is refused before o2cb is started again
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And the cluster services are stopped on server2
    When I run "service ovs-agent start" on server2
    Then the command fails

  @rule:PROC-HB-KILL @release:2.1 @release:2.2 @destructive
  Scenario: After a heartbeat error the heartbeat is killed and the services restarted in order
    Given a clustered server pool of 3 servers on OCFS2 over SAN shared storage with HA enabled on the pool
    And I have run "service ovs-agent stop" on server2
    And I have run "service ovsrepositories stop" on server2
    When I run "ocfs2_hb_ctl -K -d /dev/sdb1" on server2
    Then the command succeeds
    When I run "service ocfs2 stop" on server2
    And I run "service o2cb stop" on server2
    And the cluster services are started on server2 in order
    Then the services o2cb, ocfs2, ovsrepositories and ovs-agent are running on server2
    And every server sees server2 heartbeating

  @rule:PROC-HB-KILL @rule:PROC-SERVICE-ORDER @release:2.1 @release:2.2 @destructive
  Scenario: After a real heartbeat error the heartbeat killed by hand stops, and the services restarted in order bring the server back
    Given a clustered server pool of 3 servers on OCFS2 over SAN shared storage with HA enabled on the pool
    When server2 loses access to the shared storage
    And 6 seconds pass
    And server2 comes back
    Then server2 records a heartbeat error
    When I run "service ovs-agent stop" on server2
    And I run "service ovsrepositories stop" on server2
    And I run "ocfs2_hb_ctl -K -d /dev/sdb1" on server2
    Then no other server sees server2 heartbeating
    When I run "service ocfs2 stop" on server2
    And I run "service o2cb stop" on server2
    And the cluster services are started on server2 in order
    Then the services o2cb, ocfs2, ovsrepositories and ovs-agent are running on server2
    And every server sees server2 heartbeating
    And server2 does not fence itself

  @rule:PROC-HB-FILE @release:2.1 @release:2.2
  Scenario Outline: The heartbeat file made by hand reads back as mkfs.ocfs2 made it, on every server
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And I have run "dd if=/dev/zero of=/OVS/.server_pool_hb bs=1M count=300" on server1
    When I run "mkfs.ocfs2 -L <label> -N <slots> -b <block> -C <cluster> --force /OVS/.server_pool_hb" on server1
    Then the command succeeds
    And the OCFS2 file system in /OVS/.server_pool_hb on server2 has size 300M, label <label>, <slots> node slots, block size <block> and cluster size <cluster>

    Examples:
      | label          | slots | block | cluster |
      | server_pool_hb | 16    | 2k    | 4k      |
      | pool_hb_32     | 32    | 4k    | 8k      |

  @rule:PROC-HB-FILE @release:2.1 @release:2.2
  Scenario: An NFS heartbeat file made by hand with dd and mkfs.ocfs2 serves the cluster
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And I have run "dd if=/dev/zero of=/OVS/.server_pool_hb bs=1M count=300" on server1
    When I run "mkfs.ocfs2 -L server_pool_hb -N 16 -b 2k -C 4k --force /OVS/.server_pool_hb" on server1
    Then the command succeeds
    When HA is enabled on the pool
    Then the operation succeeds
    And the file /OVS/.server_pool_hb exists on every server
