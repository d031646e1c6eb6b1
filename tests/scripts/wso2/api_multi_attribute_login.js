// Sign in with a username, an email address or a mobile number.
// The identifier typed first is resolved to the account it names (the server's settings say which
// attributes may identify an account); the password step then asks for that account's password.
// An identifier that names no account, or several, comes back as typed: the password step refuses
// it as it refuses any wrong name, so the page does not tell which identifiers exist.
var passwordStep = 1;

var onLoginRequest = function (context) {
    promptIdentifierForStep(passwordStep, {
        onSuccess: function (context) {
            var typed = context.request.params.username[0];
            var username = resolveMultiAttributeLoginIdentifier(typed, context.tenantDomain);
            if (username !== typed) {
                Log.info('Signing in with an alternative identifier.');
            }
            executeStep(passwordStep, {
                authenticatorParams: {common: {username: username, inputType: 'identifierFirst'}}
            }, {});
        }
    });
};
