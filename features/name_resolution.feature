Feature: Host names and name resolution of the servers in an HA pool
  Each server has a fully qualified host name that is not on the loopback
  address, and all servers resolve names the same way.

  @rule:PRE-FQDN @rule:PRE-HOSTNAME-NOT-LOOPBACK @release:2.1 @release:2.2
  Scenario: Servers of an HA pool have fully qualified host names off the loopback address
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    Then the hostname of every server is its fully qualified domain name
    And no server has its host name on the loopback address

  @rule:PRE-FQDN @release:2.1 @release:2.2
  Scenario: A server without a fully qualified host name keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And the hostname of server2 is set to server2
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-FQDN

  @rule:PRE-HOSTNAME-NOT-LOOPBACK @release:2.1 @release:2.2
  Scenario: A host name on 127.0.0.1 keeps HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And /etc/hosts on server3 maps its host name to the loopback address
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-HOSTNAME-NOT-LOOPBACK

  @rule:PRE-NAME-RESOLUTION-CONSISTENT @release:2.1 @release:2.2
  Scenario: Servers that mix DNS and /etc/hosts keep HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server3 resolves the pool's names by DNS
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-NAME-RESOLUTION-CONSISTENT

  @rule:PRE-NAME-RESOLUTION-CONSISTENT @release:2.1 @release:2.2
  Scenario: Servers that all resolve the pool's names by DNS may take part in HA
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And every server resolves the pool's names by DNS
    When HA is enabled on the pool
    Then the operation succeeds

  @rule:PRE-NAME-RESOLUTION-CONSISTENT @release:2.1 @release:2.2
  Scenario: Servers that resolve a pool member differently keep HA from being enabled
    Given a clustered server pool of 3 servers on NFS shared storage with HA disabled on the pool
    And server2 resolves server3 to 192.168.100.199
    When HA is enabled on the pool
    Then enabling HA fails naming rule PRE-NAME-RESOLUTION-CONSISTENT
