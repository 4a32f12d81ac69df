Feature: Restarting, shutting down and deleting a server
  Oracle VM 2.x prompts to migrate the running guests; guests not migrated
  are restarted on an available server. Oracle VM 3 requires the HA guests
  to be migrated first. A command-line shutdown (2.2) also restarts them.

  @rule:PLAN-MANAGER-PROMPT-2X @rule:MIG-LIVE @release:2.1 @release:2.2 @destructive
  Scenario Outline: In 2.x, guests migrated at the prompt keep running when their server is <operation>
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA disabled running on server2
    When server2 is <operation> from Oracle VM Manager and its guests are migrated
    Then the operation succeeds
    And guest vm1 was live migrated to another server
    And guest vm2 was live migrated to another server
    And no guest ever ran on two servers at once

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-MANAGER-PROMPT-2X @release:2.1 @release:2.2 @destructive
  Scenario Outline: In 2.x, HA guests not migrated are restarted elsewhere when their server is <operation>
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    And a guest vm2 with HA disabled running on server2
    When server2 is <operation> from Oracle VM Manager and its guests are not migrated
    Then the operation succeeds
    And guest vm1 is restarted on another server
    And guest vm2 is stopped

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-MANAGER-PROMPT-2X @rule:PLACE-MANUAL-PREFERRED @release:2.1 @release:2.2 @destructive
  Scenario Outline: In 2.x an HA guest not migrated when its server is <operation> restarts on its preferred server, not the emptiest
    Given a clustered server pool on NFS shared storage with HA enabled on the pool and these servers:
      | server  | roles               | memory MB |
      | server1 | master, utility, vm | 65536     |
      | server2 | vm                  | 16384     |
      | server3 | vm                  | 16384     |
    And a guest vm1 with HA enabled that prefers server2 and server3
    And guest vm1 is running
    When server2 is <operation> from Oracle VM Manager and its guests are not migrated
    Then the operation succeeds
    And guest vm1 is restarted on another server
    And guest vm1 is running on server3

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-MIGRATE-FIRST-3X @release:3.x @destructive
  Scenario Outline: In Oracle VM 3 a server running HA guests cannot be <operation> without migrating them
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server2 is <operation> from Oracle VM Manager and its guests are not migrated
    Then the operation is refused
    And guest vm1 keeps running on server2

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-MIGRATE-FIRST-3X @rule:HA-ENABLE-BOTH @release:3.x @destructive
  Scenario Outline: In Oracle VM 3 a server running only guests without HA can be <operation> unmigrated, and they stop
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA disabled running on server2
    And a guest vm2 with HA disabled running on server2
    When server2 is <operation> from Oracle VM Manager and its guests are not migrated
    Then the operation succeeds
    And guest vm1 is not restarted
    And guest vm1 is stopped
    And guest vm2 is stopped

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-MIGRATE-FIRST-3X @rule:MIG-LIVE @release:3.x @destructive
  Scenario Outline: In Oracle VM 3 HA guests migrated first keep running when their server is <operation>
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server2 is <operation> from Oracle VM Manager and its guests are migrated
    Then the operation succeeds
    And guest vm1 was live migrated to another server

    Examples:
      | operation |
      | shut down |
      | restarted |
      | deleted   |

  @rule:PLAN-RESTART-RETURNS @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server restarted from Oracle VM Manager reboots and rejoins the pool
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    When server3 is restarted from Oracle VM Manager and its guests are migrated
    Then the operation succeeds
    And server3 rejoins the cluster after rebooting

  @rule:PLAN-RESTART-RETURNS @release:2.1 @release:2.2 @release:3.x @destructive
  Scenario: A server deleted from the pool is never used again
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server3 is deleted from Oracle VM Manager and its guests are migrated
    Then the operation succeeds
    And server3 is no longer in the pool
    When server2 fails
    Then guest vm1 is running on server1

  @rule:PLAN-CLI-SHUTDOWN-22 @release:2.2 @destructive
  Scenario Outline: In 2.2 the agent restarts the HA guests of a server <how> from its command line
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server2
    When server2 is <how> from its command line
    Then guest vm1 is restarted on another server
    And no guest ever ran on two servers at once

    Examples:
      | how       |
      | shut down |
      | restarted |
