// Sign-in option: whoever signs in with a passkey is done; a password sign-in asks for a second factor,
// except for users who never set one up and are not administrators.
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var first = context.steps[1].authenticator;
            if (first === 'FIDOAuthenticator') {
                Log.info('Passkey sign-in: no second factor.');
                return;
            }
            if (hasRole(context.currentKnownSubject, 'admin')) {
                executeStep(2);
            }
        }
    });
};
