/* placeholder, replaced by the CLI dispatch */
int main(void)
{
        return 0;
}
