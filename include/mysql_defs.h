/* mysql_defs.h — MySQL client/server protocol constants.
 *
 * Shared by the BPF programs and user space: macros only, no includes,
 * no types. Values are from the MySQL/MariaDB protocol documentation. */
#ifndef SHUNT_MYSQL_DEFS_H
#define SHUNT_MYSQL_DEFS_H

/* Packet framing */
#define MYSQL_HDR_LEN            4          /* 3-byte length + 1-byte sequence id */
#define MYSQL_MAX_PAYLOAD        0xFFFFFFu  /* a payload this long continues in the next packet */

/* Capability flags (CLIENT_*) */
#define CLIENT_LONG_PASSWORD                 0x00000001u /* MariaDB: CLIENT_MYSQL */
#define CLIENT_FOUND_ROWS                    0x00000002u
#define CLIENT_LONG_FLAG                     0x00000004u
#define CLIENT_CONNECT_WITH_DB               0x00000008u
#define CLIENT_NO_SCHEMA                     0x00000010u
#define CLIENT_COMPRESS                      0x00000020u
#define CLIENT_ODBC                          0x00000040u
#define CLIENT_LOCAL_FILES                   0x00000080u
#define CLIENT_IGNORE_SPACE                  0x00000100u
#define CLIENT_PROTOCOL_41                   0x00000200u
#define CLIENT_INTERACTIVE                   0x00000400u
#define CLIENT_SSL                           0x00000800u
#define CLIENT_IGNORE_SIGPIPE                0x00001000u
#define CLIENT_TRANSACTIONS                  0x00002000u
#define CLIENT_RESERVED                      0x00004000u
#define CLIENT_SECURE_CONNECTION             0x00008000u
#define CLIENT_MULTI_STATEMENTS              0x00010000u
#define CLIENT_MULTI_RESULTS                 0x00020000u
#define CLIENT_PS_MULTI_RESULTS              0x00040000u
#define CLIENT_PLUGIN_AUTH                   0x00080000u
#define CLIENT_CONNECT_ATTRS                 0x00100000u
#define CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA 0x00200000u
#define CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS  0x00400000u
#define CLIENT_SESSION_TRACK                 0x00800000u
#define CLIENT_DEPRECATE_EOF                 0x01000000u
#define CLIENT_OPTIONAL_RESULTSET_METADATA   0x02000000u
#define CLIENT_ZSTD_COMPRESSION              0x04000000u
#define CLIENT_QUERY_ATTRIBUTES              0x08000000u
#define CLIENT_SSL_VERIFY_SERVER_CERT        0x40000000u
#define CLIENT_REMEMBER_OPTIONS              0x80000000u

/* MariaDB extended capabilities: the last 4 bytes of the greeting's filler
 * and of the login's filler, used only when CLIENT_LONG_PASSWORD (which
 * MariaDB calls CLIENT_MYSQL) is clear. shunt offers none of them: its
 * greeting keeps CLIENT_MYSQL set, so clients send none. */
#define MARIADB_CLIENT_PROGRESS              (1u << 0)
#define MARIADB_CLIENT_COM_MULTI             (1u << 1)
#define MARIADB_CLIENT_STMT_BULK_OPERATIONS  (1u << 2)
#define MARIADB_CLIENT_EXTENDED_METADATA     (1u << 3)
#define MARIADB_CLIENT_CACHE_METADATA        (1u << 4)

/* Server status flags (SERVER_STATUS_*) in OK and EOF packets */
#define SERVER_STATUS_IN_TRANS               0x0001u
#define SERVER_STATUS_AUTOCOMMIT             0x0002u
#define SERVER_MORE_RESULTS_EXISTS           0x0008u
#define SERVER_QUERY_NO_GOOD_INDEX_USED      0x0010u
#define SERVER_QUERY_NO_INDEX_USED           0x0020u
#define SERVER_STATUS_CURSOR_EXISTS          0x0040u
#define SERVER_STATUS_LAST_ROW_SENT          0x0080u
#define SERVER_STATUS_DB_DROPPED             0x0100u
#define SERVER_STATUS_NO_BACKSLASH_ESCAPES   0x0200u
#define SERVER_STATUS_METADATA_CHANGED       0x0400u
#define SERVER_QUERY_WAS_SLOW                0x0800u
#define SERVER_PS_OUT_PARAMS                 0x1000u
#define SERVER_STATUS_IN_TRANS_READONLY      0x2000u
#define SERVER_SESSION_STATE_CHANGED         0x4000u

/* Command bytes (COM_*) */
#define COM_SLEEP                0x00
#define COM_QUIT                 0x01
#define COM_INIT_DB              0x02
#define COM_QUERY                0x03
#define COM_FIELD_LIST           0x04
#define COM_CREATE_DB            0x05
#define COM_DROP_DB              0x06
#define COM_REFRESH              0x07
#define COM_SHUTDOWN             0x08
#define COM_STATISTICS           0x09
#define COM_PROCESS_INFO         0x0a
#define COM_CONNECT              0x0b
#define COM_PROCESS_KILL         0x0c
#define COM_DEBUG                0x0d
#define COM_PING                 0x0e
#define COM_TIME                 0x0f
#define COM_DELAYED_INSERT       0x10
#define COM_CHANGE_USER          0x11
#define COM_BINLOG_DUMP          0x12
#define COM_TABLE_DUMP           0x13
#define COM_CONNECT_OUT          0x14
#define COM_REGISTER_SLAVE       0x15
#define COM_STMT_PREPARE         0x16
#define COM_STMT_EXECUTE         0x17
#define COM_STMT_SEND_LONG_DATA  0x18
#define COM_STMT_CLOSE           0x19
#define COM_STMT_RESET           0x1a
#define COM_SET_OPTION           0x1b
#define COM_STMT_FETCH           0x1c
#define COM_DAEMON               0x1d
#define COM_BINLOG_DUMP_GTID     0x1e
#define COM_RESET_CONNECTION     0x1f
#define COM_STMT_BULK_EXECUTE    0xfa  /* MariaDB */

/* Client commands whose payload starts with a statement id (u32 after the
 * command byte): what a statement-id translation rewrites. */
#define MYSQL_STMT_ID_CMD(c) ((c) == COM_STMT_EXECUTE || (c) == COM_STMT_SEND_LONG_DATA || \
			      (c) == COM_STMT_CLOSE || (c) == COM_STMT_RESET || \
			      (c) == COM_STMT_FETCH || (c) == COM_STMT_BULK_EXECUTE)
/* Header + command byte + statement id: the bytes a translation needs. */
#define MYSQL_STMT_ID_PREFIX 9

/* Response header bytes */
#define MYSQL_OK_HDR             0x00
#define MYSQL_EOF_HDR            0xfe
#define MYSQL_ERR_HDR            0xff
#define MYSQL_LOCAL_INFILE_HDR   0xfb
#define MYSQL_AUTH_SWITCH_HDR    0xfe
#define MYSQL_AUTH_MORE_HDR      0x01

/* COM_STMT_EXECUTE flags */
#define CURSOR_TYPE_NO_CURSOR    0x00
#define CURSOR_TYPE_READ_ONLY    0x01

/* Error codes shunt sends itself (see docs/errors.md) */
#define ER_ACCESS_DENIED_ERROR       1045
#define ER_HANDSHAKE_ERROR           1043
#define ER_NET_PACKETS_OUT_OF_ORDER  1156
#define ER_NET_PACKET_TOO_LARGE      1153
#define ER_NOT_SUPPORTED_AUTH_MODE   1251
#define ER_UNKNOWN_COM_ERROR         1047
#define ER_CON_COUNT_ERROR           1040
#define ER_HOST_IS_BLOCKED           1129
#define ER_TOO_MANY_USER_CONNECTIONS 1203
#define ER_OUT_OF_RESOURCES          1041
#define ER_NO_SUCH_THREAD            1094
#define ER_KILL_DENIED_ERROR         1095
#define ER_UNKNOWN_ERROR             1105
#define ER_SYNTAX_ERROR              1064
#define ER_QUERY_INTERRUPTED         1317
#define ER_CONNECTION_KILLED         1927
#define ER_BAD_DB_ERROR              1049
#define ER_SPECIFIC_ACCESS_DENIED    1227
/* shunt's own "no backend could serve this session". Not 2003
 * (CR_CONN_HOST_ERROR): libmariadb turns any 2000-2999 code received from a
 * server into 2027 "malformed packet" and drops the text. 9001 is what
 * ProxySQL sends in the same situation; SQLSTATE 08S01 makes drivers treat
 * it as a communication failure (retryable), not an SQL error. */
#define SHUNT_ER_NO_BACKEND          9001
#define SHUNT_SQLSTATE_NO_BACKEND    "08S01"

/* Character sets */
#define MYSQL_CHARSET_UTF8MB4_GENERAL_CI 45

/* Column types and flags (ColumnDefinition41) */
#define MYSQL_TYPE_TINY        0x01
#define MYSQL_TYPE_LONGLONG    0x08
#define MYSQL_TYPE_VAR_STRING  0xfd
#define MYSQL_NUM_FLAG         0x8000
#define MYSQL_CHARSET_BINARY             63

#endif
