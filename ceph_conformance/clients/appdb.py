"""An app's own database and user in a MySQL-protocol server (MariaDB or MySQL), made with the
server's root connection (pymysql), as an operator makes one for Ghost."""


def create_app_database(conn, name, user, password, host="localhost"):
    """A database and a user with every right on it only: utf8mb4, as Ghost wants. host: where the
    user may connect from ("localhost": the server's socket; "%": anywhere in a pod network). Done
    again for the same names (the app moved to another client), the password is set anew."""
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))
        cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))
        cur.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@%s", (user, host))
