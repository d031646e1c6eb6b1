// Passkey progressive enrollment: step 1 offers a passkey besides a password.  A user without a passkey who
// asks to create one (the passkey page's enrollment request) signs in with the other options of step 1 first,
// then registers a passkey in the same login, step 1 run again with the passkey alone.
var passkeyAuthenticator = 'FIDOAuthenticator';

var onLoginRequest = function (context) {
    executeStep(1, {
        onFail: function (context) {
            var scenario = context.request.params.scenario;
            if (scenario == null || scenario[0] !== 'INIT_FIDO_ENROLL') {
                return;
            }
            executeStep(1, {
                stepOptions: {markAsSubjectIdentifierStep: 'true'},
                authenticationOptions: filterAuthenticators(context.steps[1].options, passkeyAuthenticator)
            }, {
                onSuccess: function (context) {
                    Log.info('Enrolling a passkey for ' + context.currentKnownSubject.username);
                    executeStep(1, {
                        stepOptions: {forceAuth: 'true'},
                        authenticationOptions: [{authenticator: passkeyAuthenticator}],
                        authenticatorParams: {local: {FIDOAuthenticator: {enrollPasskey: 'true'}}}
                    }, {});
                }
            });
        }
    });
};
