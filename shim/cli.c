/* placeholder, replaced by the command */
int main(void) { return 0; }
